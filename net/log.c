/* The net/ log hook (see net/log.h). Messages are cut at NET_LOG_MSG_MAX bytes. */
#include <stdarg.h>
#include <stdio.h>

#include "net/log.h"

#define NET_LOG_MSG_MAX 160

net_log_fn net_log_hook_;
enum net_log_level net_log_level_ = NET_LOG_INFO;

void net_log_set_hook(net_log_fn fn)
{
    net_log_hook_ = fn;
}

void net_log_set_level(enum net_log_level level)
{
    net_log_level_ = level;
}

enum net_log_level net_log_get_level(void)
{
    return net_log_level_;
}

const char *net_log_level_name(enum net_log_level level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    return (unsigned)level < 4 ? names[level] : "?";
}

void net_log_emit(enum net_log_level level, const char *tag, const char *fmt, ...)
{
    char msg[NET_LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (net_log_hook_)
        net_log_hook_(level, tag, msg);
}
