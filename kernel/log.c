/* The log (see kernel/log.h): one line per call, formatted here and written whole
 * through the platform. Portable: builds for the kernel and for host tests. */
#include "kernel/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kernel/platform.h"

#define LOG_LINE_MAX 512

const char *const log_level_names[LOG_LEVELS] = {"error", "warn", "info", "debug"};
enum log_level log_threshold = LOG_INFO;

void log_set_level(enum log_level lvl)
{
    log_threshold = lvl;
}

const char *log_level_name(enum log_level lvl)
{
    return (unsigned)lvl < LOG_LEVELS ? log_level_names[lvl] : "?";
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < LOG_LEVELS; i++)
        if (strcmp(s, log_level_names[i]) == 0)
            return i;
    return -1;
}

void log_msg(enum log_level lvl, const char *tag, const char *fmt, ...)
{
    if (lvl > log_threshold)
        return;
    char line[LOG_LINE_MAX];
    uint64_t ns = plat_now_ns();
    int n = snprintf(line, sizeof line, "[%5u.%06u] %s%s: ", (unsigned)(ns / 1000000000u),
                     (unsigned)(ns / 1000u % 1000000u),
                     lvl == LOG_ERROR  ? "error: "
                     : lvl == LOG_WARN ? "warn: "
                                       : "",
                     tag);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    plat_log_write(lvl, line, (size_t)n);
}
