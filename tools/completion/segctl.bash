# segctl.bash - bash completion for segctl. The words come from segctl
# itself (`segctl __complete WORD... CUR`, built from the same command table
# its parser uses), so this file never lists a command or an option.
# Installed by `make install` to share/bash-completion/completions/segctl.

_segctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} words
	local IFS=$'\n'

	words=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) ||
		return 0
	if [ "$words" = "__files" ]; then
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _segctl segctl
