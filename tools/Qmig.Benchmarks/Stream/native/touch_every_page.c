/*
 * The floor for any reader that must look at every record header of a RAM-heavy stream: map the
 * file and read one byte of every 4 KiB page of it, nothing else. A stream of 4 KiB PAGE records
 * has a header in almost every page of the file, so no stats walk can touch less; what this costs
 * is the kernel mapping the page cache, which qmig and analyze-migration.py pay as well.
 *
 * usage: touch_every_page FILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(argv[1]);
        return 2;
    }
    const volatile unsigned char *bytes = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (bytes == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    unsigned long sum = 0;
    for (off_t offset = 0; offset < st.st_size; offset += 4096)
        sum += bytes[offset];
    printf("%lu\n", sum);
    return 0;
}
