/* The stack's timer thread (see kernel/net_timer.h). It sleeps exactly until
 * the earliest deadline of every stack (net_next_deadline; nothing armed when
 * there is none), and the stacks wake it through their deadline hook when they
 * arm an earlier one (an ARP request just went out, a first fragment came). */
#include "net_timer.h"

#include "net/stack.h"
#include "netglue.h"
#include "panic.h"
#include "sched.h"
#include "timer.h"

static struct waitq timer_wq;
static uint64_t sleeps_until; /* 0 while the thread runs */

void net_timer_deadline_armed(void *ctx, uint64_t t)
{
    (void)ctx;
    if (t < sleeps_until)
        waitq_wake_one(&timer_wq);
}

static void net_timer_thread(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t now = timer_now_ns(), next = UINT64_MAX;
        for (int i = 0; i < netglue_stack_count(); i++) {
            struct net_stack *s = netglue_stack(i);
            net_tick(s, now);
            uint64_t d = net_next_deadline(s);
            next = d < next ? d : next;
        }
        if (next <= timer_now_ns()) {
            thread_yield();
            continue;
        }
        sleeps_until = next;
        waitq_wait(&timer_wq, next);
        sleeps_until = 0;
    }
}

void net_timer_start(void)
{
    struct thread *t = thread_spawn("net-timer", net_timer_thread, NULL, 0);
    if (!t)
        panic("net: cannot start the timer thread");
    thread_detach(t);
}
