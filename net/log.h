/* Logging hook for net/: the platform sets one function that receives levelled,
 * tagged, already formatted messages (the kernel adds the timestamp and sends it
 * to the console). Unset, nothing is formatted. NET_LOG checks the level before
 * any formatting, so debug lines cost a compare on hot paths. Thread context. */
#ifndef NET_LOG_H
#define NET_LOG_H

enum net_log_level {
    NET_LOG_ERROR = 0,
    NET_LOG_WARN = 1,
    NET_LOG_INFO = 2,
    NET_LOG_DEBUG = 3,
};

typedef void (*net_log_fn)(enum net_log_level level, const char *tag, const char *msg);

void net_log_set_hook(net_log_fn fn);
void net_log_set_level(enum net_log_level level);
enum net_log_level net_log_get_level(void);
const char *net_log_level_name(enum net_log_level level);

/* Internal: use NET_LOG. */
extern net_log_fn net_log_hook_;
extern enum net_log_level net_log_level_;
__attribute__((format(printf, 3, 4))) void
net_log_emit(enum net_log_level level, const char *tag, const char *fmt, ...);

#define NET_LOG(level, tag, ...)                                                         \
    do {                                                                                 \
        if (net_log_hook_ && (level) <= net_log_level_)                                  \
            net_log_emit((level), (tag), __VA_ARGS__);                                   \
    } while (0)

#define NET_ERR(tag, ...) NET_LOG(NET_LOG_ERROR, tag, __VA_ARGS__)
#define NET_WARN(tag, ...) NET_LOG(NET_LOG_WARN, tag, __VA_ARGS__)
#define NET_INFO(tag, ...) NET_LOG(NET_LOG_INFO, tag, __VA_ARGS__)
#define NET_DEBUG(tag, ...) NET_LOG(NET_LOG_DEBUG, tag, __VA_ARGS__)

#endif
