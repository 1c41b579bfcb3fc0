/* The console logger: one line per call, written whole to the serial port. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "net/log.h"
#include "platform.h"
#include "serial.h"

enum log_level log_threshold = LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level lvl)
{
    log_threshold = lvl;
    net_log_set_level((enum net_log_level)lvl);
}

const char *log_level_name(enum log_level lvl)
{
    return (unsigned)lvl < 4 ? names[lvl] : "?";
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void log_msg(enum log_level lvl, const char *tag, const char *fmt, ...)
{
    if (lvl > log_threshold)
        return;
    char line[512];
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
    serial_write(line, (size_t)n);
}
