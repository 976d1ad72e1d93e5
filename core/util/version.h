/* version.h - segd's version (segd --version, segctl, /metrics). */
#ifndef SEGD_VERSION_H
#define SEGD_VERSION_H

#define SEGD_VERSION "0.1.0"

#endif /* SEGD_VERSION_H */
