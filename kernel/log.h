/* Levelled, timestamped, tagged log lines, for the kernel, the drivers and net/
 * alike (one level, set by the console's `log` and the command line's log=):
 *   [    0.012345] virtio: found 1af4:1000
 *   [    1.500000] warn: arp: address conflict: ...
 * The level is checked before anything is formatted, so a debug line on a hot
 * path costs one compare. Portable (kernel/log.c): the finished line goes to
 * plat_log_write, the serial port in the kernel, stderr (when asked) in host
 * tests. Any context except interrupt handlers (newlib's vsnprintf). */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
#define LOG_LEVELS 4

/* "error", "warn", "info", "debug": the one table of level names. */
extern const char *const log_level_names[LOG_LEVELS];
extern enum log_level log_threshold;

/* Use the macros below: they check the level first. */
void log_msg(enum log_level lvl, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_set_level(enum log_level lvl);
const char *log_level_name(enum log_level lvl);
/* "error", "warn", "info", "debug" -> level; -1 when unknown. */
int log_level_parse(const char *s);

#define log_at(lvl, tag, ...)                                                            \
    do {                                                                                 \
        if ((lvl) <= log_threshold)                                                      \
            log_msg((lvl), (tag), __VA_ARGS__);                                          \
    } while (0)
#define log_error(tag, ...) log_at(LOG_ERROR, tag, __VA_ARGS__)
#define log_warn(tag, ...) log_at(LOG_WARN, tag, __VA_ARGS__)
#define log_info(tag, ...) log_at(LOG_INFO, tag, __VA_ARGS__)
#define log_debug(tag, ...) log_at(LOG_DEBUG, tag, __VA_ARGS__)

#endif
