/* The stack's timer thread ("net-timer"): ARP retries and expiry, reassembly
 * expiry, for every stack netglue made. Thread context, at boot. */
#ifndef NET_TIMER_H
#define NET_TIMER_H

/* Starts the thread (panics when it cannot). */
void net_timer_start(void);

#endif
