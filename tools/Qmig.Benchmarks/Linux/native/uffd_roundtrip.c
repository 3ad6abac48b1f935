/*
 * The C side of the userfaultfd benchmarks: the same fault round trip and the same placements that
 * Qmig.Linux does, written directly against the kernel, to measure what the managed layer costs.
 *
 * Built by the benchmark at run time (gcc -O2 -shared -fPIC -pthread) and loaded as a library; built with
 * -DUFFD_ROUNDTRIP_MAIN it is also a standalone program: `uffd_roundtrip latency 20000` prints p50/p99.
 *
 * Round trip: a handler thread pinned to one CPU polls the userfaultfd (and a quit eventfd), reads the
 * 32-byte message and resolves the fault with UFFDIO_COPY; the touching thread, pinned to the other CPU,
 * times its read of a missing page. That is exactly what the managed benchmark does with Userfaultfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long page_size;

static int uffd_open_api(void)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct uffdio_api api = { .api = UFFD_API, .features = 0 };
    if (ioctl(fd, UFFDIO_API, &api) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int pin_thread(pthread_t thread, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(thread, sizeof(set), &set);
}

static inline long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- round trip ---------------------------------------------------------------------------- */

static struct {
    int uffd, quit;
    char *region;
    long pages, next;
    char *source;
    pthread_t handler;
    long long *samples;
    long capacity, count;
} rt;

static void *rt_handler(void *unused)
{
    (void)unused;
    struct pollfd fds[2] = { { .fd = rt.uffd, .events = POLLIN }, { .fd = rt.quit, .events = POLLIN } };
    struct uffd_msg msg;
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (fds[1].revents)
            return NULL;
        ssize_t n = read(rt.uffd, &msg, sizeof(msg));
        if (n != sizeof(msg))
            continue; /* EAGAIN: the fault went away between poll and read */
        if (msg.event != UFFD_EVENT_PAGEFAULT)
            continue;
        struct uffdio_copy copy = {
            .dst = msg.arg.pagefault.address & ~(uint64_t)(page_size - 1),
            .src = (uint64_t)(uintptr_t)rt.source,
            .len = (uint64_t)page_size,
            .mode = 0,
        };
        ioctl(rt.uffd, UFFDIO_COPY, &copy);
    }
}

int rt_setup(int pages, int toucher_cpu, int handler_cpu, int capacity)
{
    page_size = sysconf(_SC_PAGESIZE);
    memset(&rt, 0, sizeof(rt));
    rt.uffd = uffd_open_api();
    if (rt.uffd < 0)
        return rt.uffd;
    rt.quit = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    rt.pages = pages;
    rt.region = mmap(NULL, (size_t)pages * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    rt.source = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rt.region == MAP_FAILED || rt.source == MAP_FAILED)
        return -ENOMEM;
    memset(rt.source, 0x5A, page_size);
    madvise(rt.region, (size_t)pages * page_size, MADV_NOHUGEPAGE);
    struct uffdio_register reg = { .range = { .start = (uint64_t)(uintptr_t)rt.region, .len = (uint64_t)pages * page_size }, .mode = UFFDIO_REGISTER_MODE_MISSING };
    if (ioctl(rt.uffd, UFFDIO_REGISTER, &reg) != 0)
        return -errno;
    rt.capacity = capacity;
    rt.samples = calloc((size_t)capacity, sizeof(long long));
    if (toucher_cpu >= 0)
        pin_thread(pthread_self(), toucher_cpu);
    if (pthread_create(&rt.handler, NULL, rt_handler, NULL) != 0)
        return -EAGAIN;
    if (handler_cpu >= 0)
        pin_thread(rt.handler, handler_cpu);
    return 0;
}

/* One round trip: read a missing page (the handler resolves it); returns the nanoseconds the read took. */
long long rt_touch(void)
{
    if (rt.next == rt.pages) {
        madvise(rt.region, (size_t)rt.pages * page_size, MADV_DONTNEED); /* every page missing again */
        rt.next = 0;
    }
    volatile uint64_t *where = (volatile uint64_t *)(rt.region + rt.next++ * page_size + 8);
    long long start = now_ns();
    uint64_t value = *where;
    long long elapsed = now_ns() - start;
    if (value != 0x5A5A5A5A5A5A5A5AULL)
        return -1;
    rt.samples[rt.count++ % rt.capacity] = elapsed;
    return elapsed;
}

/* Copies the most recent samples (up to max) and returns how many. */
long rt_samples(long long *out, long max)
{
    long have = rt.count < rt.capacity ? rt.count : rt.capacity;
    long n = have < max ? have : max;
    for (long i = 0; i < n; i++)
        out[i] = rt.samples[(rt.count - n + i) % rt.capacity];
    return n;
}

void rt_teardown(void)
{
    uint64_t one = 1;
    if (write(rt.quit, &one, sizeof(one)) == sizeof(one))
        pthread_join(rt.handler, NULL);
    munmap(rt.region, (size_t)rt.pages * page_size);
    munmap(rt.source, page_size);
    close(rt.uffd);
    close(rt.quit);
    free(rt.samples);
}

/* ---- placement throughput ------------------------------------------------------------------ */

static struct {
    int uffd;
    char *region, *source;
    long pages;
} pl;

int place_setup(int pages)
{
    page_size = sysconf(_SC_PAGESIZE);
    pl.uffd = uffd_open_api();
    if (pl.uffd < 0)
        return pl.uffd;
    pl.pages = pages;
    size_t length = (size_t)pages * page_size;
    pl.region = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    pl.source = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pl.region == MAP_FAILED || pl.source == MAP_FAILED)
        return -ENOMEM;
    memset(pl.source, 0x5A, length);
    madvise(pl.region, length, MADV_NOHUGEPAGE);
    struct uffdio_register reg = { .range = { .start = (uint64_t)(uintptr_t)pl.region, .len = length }, .mode = UFFDIO_REGISTER_MODE_MISSING };
    return ioctl(pl.uffd, UFFDIO_REGISTER, &reg) == 0 ? 0 : -errno;
}

/* The source pages place_all copies from, so that a managed placement can copy the very same memory. */
char *place_source(void)
{
    return pl.source;
}

/* Makes every page missing again (not part of a measurement). */
void place_reset(void)
{
    madvise(pl.region, (size_t)pl.pages * page_size, MADV_DONTNEED);
}

/* Places every page: UFFDIO_COPY of batch_pages at a time, or UFFDIO_ZEROPAGE of batch_pages at a time. */
int place_all(int batch_pages, int zero)
{
    size_t batch = (size_t)batch_pages * page_size;
    for (long page = 0; page < pl.pages; page += batch_pages) {
        uint64_t dst = (uint64_t)(uintptr_t)(pl.region + page * page_size);
        if (zero) {
            struct uffdio_zeropage z = { .range = { .start = dst, .len = batch }, .mode = 0 };
            if (ioctl(pl.uffd, UFFDIO_ZEROPAGE, &z) != 0)
                return -errno;
        } else {
            struct uffdio_copy c = { .dst = dst, .src = (uint64_t)(uintptr_t)(pl.source + page * page_size), .len = batch, .mode = 0 };
            if (ioctl(pl.uffd, UFFDIO_COPY, &c) != 0)
                return -errno;
        }
    }
    return 0;
}

void place_teardown(void)
{
    munmap(pl.region, (size_t)pl.pages * page_size);
    munmap(pl.source, (size_t)pl.pages * page_size);
    close(pl.uffd);
}

#ifdef UFFD_ROUNDTRIP_MAIN
static int compare(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 20000;
    if (argc < 2 || strcmp(argv[1], "latency") != 0) {
        fprintf(stderr, "usage: %s latency [round-trips]\n", argv[0]);
        return 2;
    }
    int rc = rt_setup(4096, 0, 1, (int)n);
    if (rc != 0) {
        fprintf(stderr, "setup failed: %s\n", strerror(-rc));
        return 1;
    }
    for (long i = 0; i < n / 10; i++)
        rt_touch(); /* warm-up */
    rt.count = 0;
    for (long i = 0; i < n; i++)
        rt_touch();
    long long *sorted = malloc(sizeof(long long) * n);
    long got = rt_samples(sorted, n);
    qsort(sorted, (size_t)got, sizeof(long long), compare);
    printf("round trips %ld p50 %lld ns p99 %lld ns\n", got, sorted[got / 2], sorted[(got * 99) / 100]);
    rt_teardown();
    return 0;
}
#endif
