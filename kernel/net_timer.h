/* The stack's timer thread ("net-timer"): ARP retries and expiry, reassembly
 * expiry, for every stack netglue made. Thread context, at boot. */
#ifndef NET_TIMER_H
#define NET_TIMER_H

#include <stdint.h>

/* Starts the thread (panics when it cannot). */
void net_timer_start(void);
/* Each stack's deadline hook (net_set_deadline_hook): wakes the thread when a
 * stack armed a deadline earlier than the one it sleeps until. */
void net_timer_deadline_armed(void *ctx, uint64_t deadline);

#endif
