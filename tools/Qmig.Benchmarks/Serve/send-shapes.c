// send-shapes MODE FILE [--no-copy]
//
// What it costs a receiving thread to take a file's bytes off a loopback TCP connection, by how the
// sender put them there. The sender (a child pinned to CPU 1) sends FILE in 256 KiB pieces:
//   send            pread into its own buffer, then send: the way serve sends pages;
//   sendfile        sendfile from the file, no copy in user space;
//   sendfile-warm   pread the piece into a scratch buffer first, then sendfile it, so the bytes the
//                   receiver copies were just read on the sending core;
//   sendfile-1mib   sendfile the file's first MiB over and over: the receiver copies from the same
//                   256 cached pages all along.
// The receiver (the parent, pinned to CPU 0) reads 32 KiB at a time and copies every 4 KiB page into
// memory of its own the size of the file, as a QEMU destination's postcopy listen thread reads its
// stream and places each page; --no-copy leaves that copy out. It prints one line per run: the mode,
// the receiver's CPU seconds and wall seconds, the sender's CPU seconds, and the bytes received.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { Piece = 256 << 10, ReadSize = 32 << 10, Page = 4096, HotBytes = 1 << 20 };

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        fail("sched_setaffinity");
}

static double cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static double wall_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

static void send_all(int socket_fd, const char *bytes, size_t length)
{
    while (length > 0)
    {
        ssize_t sent = send(socket_fd, bytes, length, 0);
        if (sent < 0)
            fail("send");
        bytes += sent;
        length -= (size_t)sent;
    }
}

static void sendfile_all(int socket_fd, int file, off_t offset, size_t length)
{
    off_t end = offset + (off_t)length;
    while (offset < end)
        if (sendfile(socket_fd, file, &offset, (size_t)(end - offset)) <= 0)
            fail("sendfile");
}

static void read_all(int file, char *into, size_t length, off_t offset)
{
    if (pread(file, into, length, offset) != (ssize_t)length)
        fail("pread");
}

static void run_sender(const char *mode, int file, size_t total, const struct sockaddr_in *address, int write_to_parent)
{
    pin(1);
    int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(socket_fd, (const struct sockaddr *)address, sizeof *address) != 0)
        fail("connect");
    int on = 1;
    setsockopt(socket_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    char *buffer = aligned_alloc(Page, Piece);
    double start = cpu_seconds();
    for (size_t offset = 0; offset < total; offset += Piece)
    {
        size_t length = total - offset < Piece ? total - offset : Piece;
        if (strcmp(mode, "send") == 0)
        {
            read_all(file, buffer, length, (off_t)offset);
            send_all(socket_fd, buffer, length);
        }
        else if (strcmp(mode, "sendfile") == 0)
            sendfile_all(socket_fd, file, (off_t)offset, length);
        else if (strcmp(mode, "sendfile-warm") == 0)
        {
            read_all(file, buffer, length, (off_t)offset);
            sendfile_all(socket_fd, file, (off_t)offset, length);
        }
        else
            sendfile_all(socket_fd, file, (off_t)(offset % HotBytes), length);
    }
    double used = cpu_seconds() - start;
    if (write(write_to_parent, &used, sizeof used) != sizeof used)
        fail("write");
    _exit(0);
}

int main(int argc, char **argv)
{
    const char *modes[] = {"send", "sendfile", "sendfile-warm", "sendfile-1mib"};
    int known = 0;
    for (size_t i = 0; argc >= 3 && i < sizeof modes / sizeof *modes; i++)
        known |= strcmp(argv[1], modes[i]) == 0;
    if (!known)
    {
        fprintf(stderr, "usage: send-shapes send|sendfile|sendfile-warm|sendfile-1mib FILE [--no-copy]\n");
        return 2;
    }

    int copy = !(argc > 3 && strcmp(argv[3], "--no-copy") == 0);
    int file = open(argv[2], O_RDONLY);
    if (file < 0)
        fail(argv[2]);
    struct stat status;
    fstat(file, &status);
    size_t total = (size_t)status.st_size & ~(size_t)(Page - 1);
    if (total < HotBytes)
    {
        fprintf(stderr, "%s: needs at least 1 MiB\n", argv[2]);
        return 2;
    }

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t address_length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &address_length) != 0)
        fail("listen");

    int report[2];
    if (pipe(report) != 0)
        fail("pipe");
    pid_t sender = fork();
    if (sender == 0)
        run_sender(argv[1], file, total, &address, report[1]);

    pin(0);
    int connection = accept(listener, NULL, NULL);
    char *placed = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (connection < 0 || placed == MAP_FAILED)
        fail("accept or mmap");

    static char stream[ReadSize];
    size_t buffered = 0, received = 0;
    double cpu_start = cpu_seconds(), wall_start = wall_seconds();
    for (;;)
    {
        ssize_t got = recv(connection, stream + buffered, sizeof stream - buffered, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            fail("recv");
        if (got == 0)
            break;
        buffered += (size_t)got;
        size_t pages = buffered / Page;
        if (copy)
            for (size_t i = 0; i < pages; i++)
                memcpy(placed + received + i * Page, stream + i * Page, Page);
        received += pages * Page;
        memmove(stream, stream + pages * Page, buffered - pages * Page);
        buffered -= pages * Page;
    }
    double cpu_used = cpu_seconds() - cpu_start, wall_used = wall_seconds() - wall_start;

    double sender_cpu = 0;
    int status_code = 0;
    if (read(report[0], &sender_cpu, sizeof sender_cpu) != sizeof sender_cpu || waitpid(sender, &status_code, 0) != sender ||
        status_code != 0 || received != total)
    {
        fprintf(stderr, "the sender failed, or %zu of %zu bytes arrived\n", received, total);
        return 1;
    }

    printf("%s%s receiver_cpu %.3f receiver_wall %.3f sender_cpu %.3f bytes %zu\n", argv[1], copy ? "" : "/no-copy", cpu_used,
        wall_used, sender_cpu, received);
    return 0;
}
