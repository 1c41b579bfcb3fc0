/* The checker's schedule (vq_check.h): the choices a run makes, what the
 * environment (the model device, the store buffer) may do at each, and the
 * points where it may act while the driver runs; the guest's I/O accesses.
 *
 * Choice points: before each driver load of a field the device writes, before
 * each I/O access, before the guest's hlt (the device may act while the driver
 * runs: a preemption), and while every guest thread sleeps (free). A
 * preemption is a burst of env steps, however many; their number per run is
 * bounded (CHESS-style preemption bounding). */
#include <string.h>

#include "kernel/platform.h"
#include "tests/unit/vq_check.h"

struct ck_sched ck_sched;

/* ---------------------------------------------------------------- choices */

static uint32_t rnd(uint32_t n)
{
    ck_sched.rng ^= ck_sched.rng << 13;
    ck_sched.rng ^= ck_sched.rng >> 7;
    ck_sched.rng ^= ck_sched.rng << 17;
    return (uint32_t)(ck_sched.rng % n);
}

/* Option 0 is the default (the driver goes on, or the first env step at idle).
 * Replays the recorded prefix, then extends it. Random runs prefer the driver:
 * a device step in one choice point out of eight. */
int ck_choose(int n, bool driver_running)
{
    struct ck_sched *s = &ck_sched;
    ck_run.steps++;
    if (n <= 1 || ck_run.no_branch)
        return 0;
    if (s->depth < s->prefix) {
        KCHECK(s->stack[s->depth].n == n); /* the replay went the same way */
        return s->stack[s->depth++].c;
    }
    KCHECK(s->depth < CK_MAX_CHOICES);
    int c = 0;
    if (s->random)
        c = driver_running ? (rnd(8) ? 0 : 1 + (int)rnd((uint32_t)n - 1))
                           : (int)rnd((uint32_t)n);
    s->stack[s->depth++] = (struct ck_choice){(uint8_t)n, (uint8_t)c};
    return c;
}

/* The next schedule in depth-first order; false when all have been run. */
bool ck_next_schedule(void)
{
    struct ck_sched *s = &ck_sched;
    while (s->depth > 0 && s->stack[s->depth - 1].c + 1 >= s->stack[s->depth - 1].n)
        s->depth--;
    if (s->depth == 0)
        return false;
    s->stack[s->depth - 1].c++;
    s->prefix = s->depth;
    return true;
}

/* ---------------------------------------------------------------- env steps */

enum ck_act {
    A_DRAIN,     /* the store buffer drains up to its oldest index store */
    A_STEP,      /* the running device handler's next step */
    A_STEP_BUSY, /* ... the backend busy for the packet it pops */
    A_RECEIVE,   /* a frame from the backend (tap readable) */
    A_BH,        /* the TX bottom half runs */
    A_BH_BUSY,   /* ... and the backend is busy for its first packet */
    A_COMPLETE,  /* the backend finished the packet it had queued */
};

/* Does starting the bottom half pop a packet at once (so the backend may be busy)? */
static bool bh_may_busy(void)
{
    struct qm_dev t = ck_dm;
    t.note = NULL;
    qm_start(&t, BH_START);
    return qm_step_may_busy(&t);
}

/* What the environment may do next. A drain is only worth a choice before a
 * device step (one at the end of a burst changes nothing the driver sees, and
 * the next burst or drain point can do it), so it is offered with the steps. */
static int env_actions(enum ck_act *a)
{
    int n = 0;
    if (ck_dm.pc != QM_IDLE) {
        a[n++] = A_STEP;
        if (qm_step_may_busy(&ck_dm))
            a[n++] = A_STEP_BUSY;
        return n;
    }
    if (qm_can_receive(&ck_dm))
        a[n++] = A_RECEIVE;
    if (qm_can_bh(&ck_dm)) {
        a[n++] = A_BH;
        if (bh_may_busy())
            a[n++] = A_BH_BUSY;
    }
    if (qm_can_complete(&ck_dm))
        a[n++] = A_COMPLETE;
    if (ck_sched.plain ? ck_sb_len() > 0 : n && ck_sb_has_index())
        a[n++] = A_DRAIN;
    return n;
}

static void start(enum qm_pc entry, bool busy)
{
    qm_start(&ck_dm, entry);
    qm_step(&ck_dm, busy);
}

static void do_action(enum ck_act a, bool preempt)
{
    int first = ck_events();
    ck_run.env_steps++;
    switch (a) {
    case A_DRAIN:
        if (ck_sched.plain)
            ck_sb_drain_one();
        else
            ck_sb_drain_index();
        break;
    case A_STEP:
    case A_STEP_BUSY:
        qm_step(&ck_dm, a == A_STEP_BUSY);
        break;
    case A_RECEIVE:
        start(RX_CHECK, false);
        break;
    case A_BH:
    case A_BH_BUSY:
        start(BH_START, a == A_BH_BUSY);
        break;
    case A_COMPLETE:
        start(TC_PUSH, false);
        break;
    }
    if (preempt)
        ck_mark_preempt(first);
}

/* A point where the device may act while the driver runs: before a load of a
 * field the device writes (load: that field), before an I/O access or the
 * guest's hlt (load: NULL). A burst of device steps (one preemption, however
 * many steps) ends with the driver going on, never right after a drain.
 *
 * A burst before a load that neither changes the loaded field nor raises an
 * interrupt is cut: the driver does the same whether it ran before or after
 * the load, so the same burst at the next point (there always is one: the next
 * such load, an I/O access, or the hlt; the stores in between are invisible to
 * the device until drained) covers it. The rest of such a run takes default
 * choices, and it is counted as cut. */
void ck_interleave(const volatile void *load)
{
    struct ck_run *x = &ck_run;
    if (!x->on || x->stop || x->in_io || x->at_idle)
        return;
    uint64_t before = load ? ck_mem_read(load, 2) : 0;
    int irqs = ck_dm.irqs;
    bool burst = false, drained = false;
    for (;;) {
        enum ck_act a[8];
        int n = burst || x->budget > 0 ? env_actions(a) : 0;
        int proceed = drained && !ck_sched.plain ? 0 : 1;
        int c = ck_choose(n + proceed, true);
        if (proceed && c == 0)
            break;
        if (!burst)
            x->budget--;
        enum ck_act act = a[c - proceed];
        do_action(act, !burst);
        burst = true;
        drained = act == A_DRAIN;
    }
    if (burst && load && ck_mem_read(load, 2) == before && ck_dm.irqs == irqs &&
        !x->no_branch && !ck_sched.plain && !ck_sched.random) {
        x->no_branch = true;
        ck_sched.cut++;
    }
    ck_take_interrupts();
}

bool ck_env_at_idle(void)
{
    while (ck_run.woken == 0) {
        enum ck_act a[8];
        int n = env_actions(a);
        if (n == 0)
            return false;
        do_action(a[ck_choose(n, false)], false);
        ck_take_interrupts();
    }
    return true;
}

/* ---------------------------------------------------------------- I/O accesses */

/* The guest's I/O access: QEMU's big lock drains the store buffer, and waits
 * for the handler the I/O thread is running to finish. */
void ck_io_access(void)
{
    ck_interleave(NULL);
    ck_run.in_io = true;
    ck_sb_drain_all();
    while (ck_dm.pc != QM_IDLE) {
        bool busy = qm_step_may_busy(&ck_dm) && ck_choose(2, false) == 1;
        qm_step(&ck_dm, busy);
    }
    ck_run.in_io = false;
}

/* The queues' fence hook in the honoured configurations: a port write. */
void ck_io_fence(void)
{
    ck_io_access();
    ck_ev(EV_IO_FENCE, 0, 0, 0, 0, NULL);
}

/* The queues' notify callback: a write to the notify register. */
void ck_notify(void *ctx, uint16_t queue_index)
{
    (void)ctx;
    ck_io_access();
    ck_ev(EV_KICK, queue_index, 0, 0, 0, NULL);
    qm_kick(&ck_dm, queue_index);
    ck_take_interrupts();
}
