/* Levelled, timestamped, tagged console log lines:
 *   [    0.012345] virtio: found 1af4:1000
 * Any context except interrupt handlers (it formats with newlib's vsnprintf). */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_threshold;

void log_msg(enum log_level lvl, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the console's level, for the kernel and for net/ alike. */
void log_set_level(enum log_level lvl);
const char *log_level_name(enum log_level lvl);
/* "error", "warn", "info", "debug" -> level; -1 when unknown. */
int log_level_parse(const char *s);

#define log_error(tag, ...) log_msg(LOG_ERROR, tag, __VA_ARGS__)
#define log_warn(tag, ...) log_msg(LOG_WARN, tag, __VA_ARGS__)
#define log_info(tag, ...) log_msg(LOG_INFO, tag, __VA_ARGS__)
#define log_debug(tag, ...)                                                              \
    do {                                                                                 \
        if (log_threshold >= LOG_DEBUG)                                                  \
            log_msg(LOG_DEBUG, tag, __VA_ARGS__);                                        \
    } while (0)

#endif
