/* newlib's system-call layer for a machine with one console and no files:
 * write goes to the serial port, _exit ends QEMU (isa-debug-exit), sbrk lives in
 * mem.c; everything else fails with an errno. */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/times.h>
#include <sys/time.h>
#include "ksyms.h"
#include "panic.h"
#include "serial.h"
#include "timer.h"

#undef errno
extern int errno;

int write(int fd, const void *buf, int len);
int read(int fd, void *buf, int len);
int close(int fd);
int fstat(int fd, struct stat *st);
int isatty(int fd);
int lseek(int fd, int off, int whence);
int open(const char *path, int flags, ...);
int kill(int pid, int sig);
int getpid(void);
int gettimeofday(struct timeval *tv, void *tz);
clock_t times(struct tms *t);
int link(const char *a, const char *b);
int unlink(const char *p);
int fork(void);
int wait(int *status);
int execve(const char *p, char *const argv[], char *const envp[]);
int stat(const char *p, struct stat *st);
void _exit(int code);
void _init(void);
void _fini(void);

int write(int fd, const void *buf, int len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    serial_write(buf, (size_t)len);
    return len;
}

int read(int fd, void *buf, int len)
{
    (void)fd, (void)buf, (void)len;
    errno = EBADF; /* console input goes through serial_getc, not stdio */
    return -1;
}

int close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int fstat(int fd, struct stat *st)
{
    if (fd > 2) {
        errno = EBADF;
        return -1;
    }
    st->st_mode = S_IFCHR; /* a terminal: newlib line-buffers stdout */
    return 0;
}

int isatty(int fd)
{
    return fd <= 2;
}

int lseek(int fd, int off, int whence)
{
    (void)fd, (void)off, (void)whence;
    errno = ESPIPE;
    return -1;
}

int open(const char *path, int flags, ...)
{
    (void)path, (void)flags;
    errno = ENOENT;
    return -1;
}

int kill(int pid, int sig)
{
    (void)pid, (void)sig;
    errno = EINVAL;
    return -1;
}

int getpid(void)
{
    return 1;
}

int gettimeofday(struct timeval *tv, void *tz)
{
    (void)tz;
    uint64_t ns = timer_now_ns(); /* seconds since boot: there is no wall clock */
    tv->tv_sec = (time_t)(ns / 1000000000u);
    tv->tv_usec = (suseconds_t)(ns / 1000u % 1000000u);
    return 0;
}

clock_t times(struct tms *t)
{
    (void)t;
    errno = ENOSYS;
    return (clock_t)-1;
}

int link(const char *a, const char *b)
{
    (void)a, (void)b;
    errno = EMLINK;
    return -1;
}

int unlink(const char *p)
{
    (void)p;
    errno = ENOENT;
    return -1;
}

int fork(void)
{
    errno = EAGAIN;
    return -1;
}

int wait(int *status)
{
    (void)status;
    errno = ECHILD;
    return -1;
}

int execve(const char *p, char *const argv[], char *const envp[])
{
    (void)p, (void)argv, (void)envp;
    errno = ENOMEM;
    return -1;
}

int stat(const char *p, struct stat *st)
{
    (void)p, (void)st;
    errno = ENOENT;
    return -1;
}

void _exit(int code)
{
    machine_exit(code == 0);
}

void _init(void) {}
void _fini(void) {}

/* -fstack-protector: a smashed canary ends here. `used`: the calls to it appear
 * only when the link-time optimiser generates code, after it dropped what
 * nothing seemed to reference. */
__attribute__((used)) uintptr_t __stack_chk_guard = 0x595e9fbd94fda766ull;
__attribute__((noreturn, used)) void __stack_chk_fail(void);
void __stack_chk_fail(void)
{
    uint64_t off = 0;
    uint64_t ret = (uint64_t)(uintptr_t)__builtin_return_address(0);
    const char *fn = ksym_lookup(ret - 1, &off); /* ret may be past its end */
    panic("stack protector: stack smashed in %s (return to 0x%llx)", fn ? fn : "?",
          (unsigned long long)ret);
}
