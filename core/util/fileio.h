/* fileio.h - small file-system and descriptor helpers every part shares. */
#ifndef SEGD_FILEIO_H
#define SEGD_FILEIO_H

#include <stddef.h>

/* All of p to fd, again after EINTR. 0, -errno, or -EIO when write(2)
 * writes nothing. */
int seg_write_all(int fd, const void *p, size_t n);
/* mkdir -p with mode for each directory made. 0, -EINVAL (empty),
 * -ENAMETOOLONG or -errno. */
int seg_mkdir_p(const char *path, int mode);

#endif /* SEGD_FILEIO_H */
