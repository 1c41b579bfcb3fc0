/* The stack's timer thread (see kernel/net_timer.h). */
#include "net_timer.h"

#include "net/stack.h"
#include "netglue.h"
#include "panic.h"
#include "sched.h"
#include "timer.h"

/* The stack has no way to tell this thread that an earlier deadline appeared (an
 * ARP request just went out), so it looks again at least this often. */
#define TIMER_MAX_SLEEP_NS 100000000ull

static void net_timer_thread(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t now = timer_now_ns(), next = now + TIMER_MAX_SLEEP_NS;
        for (int i = 0; i < netglue_stack_count(); i++) {
            struct net_stack *s = netglue_stack(i);
            net_tick(s, now);
            uint64_t d = net_next_deadline(s);
            next = d < next ? d : next;
        }
        thread_sleep_until(next);
    }
}

void net_timer_start(void)
{
    struct thread *t = thread_spawn("net-timer", net_timer_thread, NULL, 0);
    if (!t)
        panic("net: cannot start the timer thread");
    thread_detach(t);
}
