/* A checker that explores interleavings of the virtio-net driver and a model of
 * QEMU 7.2's device, looking for the lost notification of issue 9: a state where
 * both sides sleep with work pending (the driver waiting for an interrupt, the
 * device for a kick).
 *
 * What runs. The real driver: drivers/vnet_datapath.c (included here) on the
 * real virtqueue.c (tests/unit/virtq_model_tu.c: built with access hooks) and
 * the real cooperative scheduler: a device thread doing what virtio_net.c's does
 * (vnet_service turns, then sleep until an interrupt or its deadline: restated
 * below in device_thread, the file itself is not host-built), a stack that takes
 * each frame (releasing it at once, which re-posts the buffer) or reflects it
 * (vnet_reflect_input: RX buffers go out on TX), and optionally a sender thread
 * (vnet_tx_alloc + vnet_tx_send, which may wait for TX space). The device:
 * tests/unit/qemu_net_model.h, QEMU 7.2's virtio-net cut into steps at its
 * ring accesses, interrupts by MSI-X vector as virtio_net.c's handlers take them.
 *
 * Memory model. The driver's stores to ring memory go into a TSO store buffer
 * (FIFO; its own loads see them; the device only once they drain); the device's
 * accesses are immediately visible (QEMU uses real barriers). A drain of the
 * oldest entry can happen at any choice point. Everything is drained by an I/O
 * access (a kick, the io fence, a device reset: QEMU takes its big lock), by the
 * guest halting (hlt: the vCPU thread waits on a lock) and, unless a
 * configuration says otherwise, by taking an interrupt (TCG takes the big lock
 * for it). The driver's CPU fence drains nothing ("elided": TCG with one vCPU),
 * or everything ("cpu": real SMP); its fence hook (the io fence) is absent
 * ("elided") or present ("honoured").
 *
 * Choices. Before each driver load of a field the device writes (used->idx,
 * used->flags, avail_event), before each I/O access, and whenever the guest is
 * idle, the checker chooses: the driver goes on, or one device step (the
 * running handler's next step, or a new handler: a frame from the backend, the
 * TX bottom half, the backend finishing a packet it had queued, with the
 * backend busy or not), or one store-buffer drain. Env steps taken while the
 * driver runs are preemptions, bounded by the configuration (CHESS-style
 * preemption bounding); at idle they are free. Driver stores need no choice
 * point: a device step just before a buffered store sees the same memory as one
 * just after it. Every execution runs to its end (no env step possible, every
 * guest thread asleep), where the verdict is taken: done, or a wedge.
 *
 * Exploration. Stateless depth-first search over the choices (each schedule is
 * re-executed from the start), exhaustive within the bounds; or seeded random
 * schedules (reproducible) for deeper configurations. Counted: schedules,
 * steps (choice points passed, env steps taken), distinct final states.
 *
 * Properties. Liveness: no final state where both sleep with work pending
 * (used entries the sleeping driver was owed an interrupt for, a frame held by
 * the device while RX buffers it never heard of wait, TX chains it never heard
 * of). Safety: each received frame reaches the stack once, in order; each sent
 * frame leaves once, in order; the device never gets a descriptor it holds
 * (qemu_net_model.h) and the driver never a used entry it does not own
 * (virtqueue.c's checks); no buffer is lost.
 *
 * Results asserted: (1) with the ordering point elided the checker finds the
 * wedge (RX and TX), and prints the shortest trace; (2) with it honoured, no
 * wedge within the bounds (exhaustive for the small configurations); (3) elided,
 * but with timers firing when both sleep (vnet_service's watchdog and
 * lost-interrupt poll), every wedge is recovered and the work completes; and the
 * checker is shown able to catch a wedge that needs no memory model at all (the
 * driver's own fault injection skipping a kick).
 *
 * Environment: VIRTQ_CHECK_DEEP=1 raises the bounds (preemptions 3, more frames,
 * bigger rings, 20000 random schedules; minutes); VIRTQ_CHECK_SEED=n changes the
 * random schedules' seed (default 1); VIRTQ_CHECK_TRACE=1 prints every
 * counterexample found, not only the shortest. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "drivers/vnet_datapath.c"
#include "tests/unit/host_plat.h"
#include "tests/unit/qemu_net_model.h"

/* tests/unit/virtq_model_tu.c */
bool virtq_model_fence_owed(void);

/* ---------------------------------------------------------------- configuration */

enum ck_fence {
    FENCE_ELIDED,   /* CPU fence only, dropped by TCG with one vCPU */
    FENCE_HONOURED, /* plus the io fence (a port write QEMU serialises) */
    FENCE_CPU,      /* the CPU fence works (SMP TCG, KVM), no io fence */
};

enum ck_stack {
    STACK_SINK,    /* the stack takes each frame and lets it go at once */
    STACK_REFLECT, /* vnet_reflect_input: each frame goes back out on TX */
};

struct ck_cfg {
    const char *name;
    uint16_t rx_size, tx_size;
    bool event_idx;
    enum ck_fence fence;
    bool irq_keeps_buffer; /* taking an interrupt drains nothing (weaker) */
    enum ck_stack stack;
    int rx_frames;   /* frames the backend has for the guest */
    int tx_frames;   /* frames the sender thread sends (0: no sender) */
    int burst;       /* the device's TX burst (QEMU: tx_burst) */
    int busy_max;    /* times the backend may be busy */
    int preempt;     /* env steps while the driver runs */
    bool watchdog;   /* timers fire when both sleep with work pending */
    bool fault_kick; /* the driver's fault injection: drop TX kicks until a reset */
};

/* ---------------------------------------------------------------- state of a run */

static struct ck_cfg cfg;
static struct vnet_dev dev;
static struct qm_dev dm;

enum ck_verdict {
    V_NONE = 0,
    V_DONE,         /* all the work done, both asleep with nothing pending */
    V_LOST_RX_IRQ,  /* RX used entries the sleeping driver was owed an interrupt for */
    V_LOST_TX_IRQ,  /* TX used entries, likewise */
    V_LOST_RX_KICK, /* the device holds a frame; RX buffers it never heard of wait */
    V_LOST_TX_KICK, /* TX chains the idle device never heard of */
    V_STUCK,        /* work left and none of the above (a wedge too) */
    V_UNRECOVERED,  /* watchdog runs: still wedged when the time bound passed */
    V_COUNT
};

static const char *const verdict_name[V_COUNT] = {
    "none",         "done",  "lost RX interrupt", "lost TX interrupt", "lost RX kick",
    "lost TX kick", "stuck", "not recovered",
};

static struct {
    bool on;      /* the run is being explored (choices, trace) */
    bool stop;    /* the run is over: threads leave, no more choices */
    bool in_io;   /* inside an I/O access: nothing interleaves */
    bool at_idle; /* inside the idle hook */
    int budget;   /* preemptions left */
    int woken;    /* threads woken by interrupts (idle hook) */
    int rx_seen;  /* the next frame number the stack expects */
    int rx_count; /* frames the stack got */
    int tx_sent;  /* frames the sender handed to tx_send */
    bool sender_done;
    int sender_phase; /* 0: in tx_alloc, 1: in tx_send */
    bool no_branch;   /* a state explored before: default choices from here */
    enum ck_verdict verdict;
    enum ck_verdict wedge; /* the first wedge of a watchdog run */
    uint64_t wedge_at;     /* and when */
    long steps, env_steps;
} X;

/* ---------------------------------------------------------------- DMA memory */

#define ARENA_BYTES (1u << 20)
static uint8_t arena[ARENA_BYTES] __attribute__((aligned(4096)));
static size_t arena_used;

void *dma_alloc(size_t size, size_t align)
{
    size_t at = (arena_used + align - 1) & ~(align - 1);
    KCHECK(at + size <= ARENA_BYTES);
    arena_used = at + size;
    memset(arena + at, 0, size);
    return arena + at;
}

/* ---------------------------------------------------------------- ring fields */

enum ck_field {
    F_RING = 0, /* descriptors, ring entries: no need to name them */
    F_USED_IDX, /* device-written fields the driver loads: choice points */
    F_USED_FLAGS,
    F_AVAIL_EVENT,
    F_AVAIL_IDX, /* driver-written fields the device loads: traced */
    F_AVAIL_FLAGS,
    F_USED_EVENT,
};

static const char *const field_name[] = {
    "ring",       "used->idx",    "used->flags", "avail_event",
    "avail->idx", "avail->flags", "used_event",
};

static const char *queue_name(int qi)
{
    return qi == QM_TXQ ? "TX" : "RX";
}

/* The named fields' addresses, by queue (set up with the queues). */
static uintptr_t field_addr[2][F_USED_EVENT + 1];

static void fields_init(int qi, const struct virtq *vq)
{
    uintptr_t *f = field_addr[qi];
    f[F_RING] = 0;
    f[F_USED_IDX] = (uintptr_t)&vq->used->idx;
    f[F_USED_FLAGS] = (uintptr_t)&vq->used->flags;
    f[F_AVAIL_EVENT] = (uintptr_t)virtq_avail_event(vq->used, vq->size);
    f[F_AVAIL_IDX] = (uintptr_t)&vq->avail->idx;
    f[F_AVAIL_FLAGS] = (uintptr_t)&vq->avail->flags;
    f[F_USED_EVENT] = (uintptr_t)virtq_used_event(vq->avail, vq->size);
}

static enum ck_field field_of(const volatile void *p, int *qi)
{
    uintptr_t a = (uintptr_t)p;
    for (int i = 0; i < 2; i++) {
        for (int k = F_USED_IDX; k <= F_USED_EVENT; k++) {
            if (a == field_addr[i][k]) {
                *qi = i;
                return (enum ck_field)k;
            }
        }
    }
    *qi = 0;
    return F_RING;
}

/* ---------------------------------------------------------------- the trace */

enum ck_ev {
    EV_TURN,  /* the device thread starts a turn (vnet_service) */
    EV_SLEEP, /* ... and goes to sleep */
    EV_SEND,  /* the sender hands a frame to tx_send */
    EV_STACK, /* the stack got a frame */
    EV_LOAD,  /* the driver loads a device-written field */
    EV_STORE, /* the driver stores an index field (into the store buffer) */
    EV_DRAIN, /* a buffered index store reaches memory */
    EV_CPU_FENCE,
    EV_IO_FENCE,
    EV_KICK,
    EV_DEVICE, /* a device step (text from the model) */
    EV_IRQ,    /* the guest takes an interrupt */
    EV_IDLE,   /* every guest thread asleep: hlt */
    EV_TIMER,  /* a timer fires (watchdog runs) */
    EV_RESET,
    EV_END,
};

struct ck_event {
    uint8_t kind, qi, field;
    bool preempt; /* an env step taken while the driver ran */
    int32_t a, b;
    const char *text;
};

#define MAX_EVENTS 200000
static struct ck_event events[MAX_EVENTS];
static int nevents;

static void ev(enum ck_ev kind, int qi, int field, int32_t a, int32_t b, const char *text)
{
    if (!X.on || nevents >= MAX_EVENTS)
        return;
    events[nevents++] =
        (struct ck_event){(uint8_t)kind, (uint8_t)qi, (uint8_t)field, false, a, b, text};
}

static void device_note(void *ctx, const char *what, int a, int b)
{
    (void)ctx;
    ev(EV_DEVICE, 0, 0, a, b, what);
}

static void print_event(int i, const struct ck_event *e)
{
    const char *q = queue_name(e->qi), *f = field_name[e->field];
    printf("  %4d  ", i + 1);
    switch (e->kind) {
    case EV_TURN:
        printf("driver   turn starts (vnet_service)\n");
        break;
    case EV_SLEEP:
        printf("driver   turn over: the device thread sleeps until an interrupt\n");
        break;
    case EV_SEND:
        printf("driver   sender: tx_send frame %d\n", e->a);
        break;
    case EV_STACK:
        printf("driver   the stack gets frame %d\n", e->a);
        break;
    case EV_LOAD:
        printf("driver   load  %s %s = %d\n", q, f, e->a);
        break;
    case EV_STORE:
        printf("driver   store %s %s := %d  (store buffer)\n", q, f, e->a);
        break;
    case EV_DRAIN:
        printf("memory   store buffer drains %s %s = %d\n", q, f, e->a);
        break;
    case EV_CPU_FENCE:
        printf("driver   CPU fence: %s\n",
               e->a ? "drains the store buffer" : "elided by TCG, drains nothing");
        break;
    case EV_IO_FENCE:
        printf("driver   io fence (port write): store buffer drained\n");
        break;
    case EV_KICK:
        printf("driver   kick %s (I/O write: store buffer drained)\n", q);
        break;
    case EV_DEVICE:
        printf("device   ");
        if (strncmp(e->text, "%s", 2) == 0)
            printf(e->text, queue_name(e->a), e->b);
        else
            printf(e->text, e->a, e->b);
        printf("\n");
        break;
    case EV_IRQ:
        printf("driver   takes the %s interrupt: wakes the device thread\n", q);
        break;
    case EV_IDLE:
        printf("guest    all threads asleep: hlt (store buffer drained)\n");
        break;
    case EV_TIMER:
        printf("timer    fires at %d ms\n", e->a);
        break;
    case EV_RESET:
        printf("driver   device reset\n");
        break;
    case EV_END:
        printf("end      %s\n", e->text);
        break;
    }
    if (e->preempt)
        printf("                 ^ preempts the running driver\n");
}

static void print_trace(void)
{
    for (int i = 0; i < nevents; i++)
        print_event(i, &events[i]);
}

/* ---------------------------------------------------------------- the store buffer */

#define SB_MAX 64 /* a full buffer drains its oldest entry first, as a CPU stalls */

struct sb_entry {
    volatile void *p;
    size_t n;
    uint64_t v;
    enum ck_field field;
    int qi;
};

static struct sb_entry sb[SB_MAX]; /* a ring: sb_head is the oldest */
static int sb_head, sb_len;

static struct sb_entry *sb_at(int i)
{
    return &sb[(sb_head + i) % SB_MAX];
}

static uint64_t mem_read(const volatile void *p, size_t n)
{
    switch (n) {
    case 1:
        return *(const volatile uint8_t *)p;
    case 2:
        return *(const volatile uint16_t *)p;
    case 4:
        return *(const volatile uint32_t *)p;
    default:
        KCHECK(n == 8);
        return *(const volatile uint64_t *)p;
    }
}

static void mem_write(volatile void *p, size_t n, uint64_t v)
{
    switch (n) {
    case 1:
        *(volatile uint8_t *)p = (uint8_t)v;
        break;
    case 2:
        *(volatile uint16_t *)p = (uint16_t)v;
        break;
    case 4:
        *(volatile uint32_t *)p = (uint32_t)v;
        break;
    default:
        KCHECK(n == 8);
        *(volatile uint64_t *)p = v;
        break;
    }
}

static bool overlaps(const struct sb_entry *e, const volatile void *p, size_t n)
{
    uintptr_t a = (uintptr_t)e->p, b = (uintptr_t)p;
    return a < b + n && b < a + e->n;
}

static void sb_drain_one(void)
{
    KCHECK(sb_len > 0);
    struct sb_entry *e = sb_at(0);
    sb_head = (sb_head + 1) % SB_MAX;
    sb_len--;
    mem_write(e->p, e->n, e->v);
    if (e->field >= F_AVAIL_IDX)
        ev(EV_DRAIN, e->qi, e->field, (int32_t)e->v, 0, NULL);
}

static void sb_drain_all(void)
{
    while (sb_len)
        sb_drain_one();
}

/* The driver's own loads see its newest buffered store to the same field. */
static bool sb_lookup(const volatile void *p, size_t n, uint64_t *v)
{
    for (int i = sb_len - 1; i >= 0; i--) {
        const struct sb_entry *e = sb_at(i);
        if (!overlaps(e, p, n))
            continue;
        KCHECK(e->p == p && e->n == n); /* fields are accessed whole */
        *v = e->v;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- choices */

#define MAX_CHOICES 100000

struct choice {
    uint8_t n, c;
};

static struct {
    struct choice stack[MAX_CHOICES];
    int depth, prefix;
    bool random;
    bool prune; /* skip idle states already explored with as many preemptions left */
    bool plain; /* no reductions at all (to check that they change no outcome) */
    uint64_t rng;
    long pruned, cut, states;
} S;

static uint32_t rnd(uint32_t n)
{
    S.rng ^= S.rng << 13;
    S.rng ^= S.rng >> 7;
    S.rng ^= S.rng << 17;
    return (uint32_t)(S.rng % n);
}

/* Option 0 is the default (the driver goes on, or the first env step at idle).
 * Replays the recorded prefix, then extends it. Random runs prefer the driver:
 * a device step in one choice point out of eight. */
static int choose(int n, bool driver_running)
{
    X.steps++;
    if (n <= 1 || X.no_branch)
        return 0;
    if (S.depth < S.prefix) {
        KCHECK(S.stack[S.depth].n == n); /* the replay went the same way */
        return S.stack[S.depth++].c;
    }
    KCHECK(S.depth < MAX_CHOICES);
    int c = 0;
    if (S.random)
        c = driver_running ? (rnd(8) ? 0 : 1 + (int)rnd((uint32_t)n - 1))
                           : (int)rnd((uint32_t)n);
    S.stack[S.depth++] = (struct choice){(uint8_t)n, (uint8_t)c};
    return c;
}

/* The next schedule in depth-first order; false when all have been run. */
static bool next_schedule(void)
{
    while (S.depth > 0 && S.stack[S.depth - 1].c + 1 >= S.stack[S.depth - 1].n)
        S.depth--;
    if (S.depth == 0)
        return false;
    S.stack[S.depth - 1].c++;
    S.prefix = S.depth;
    return true;
}

/* ---------------------------------------------------------------- interrupts */

/* virtio_net.c's MSI-X handlers: RX wakes the device thread, TX the senders too. */
static void take_interrupt(int qi)
{
    dm.irq[qi] = false;
    if (!cfg.irq_keeps_buffer)
        sb_drain_all();
    ev(EV_IRQ, qi, 0, 0, 0, NULL);
    dev.interrupts++;
    dev.irq_pending = true;
    X.woken += waitq_wake_one(&dev.wq);
    if (qi == QM_TXQ)
        X.woken += waitq_wake_all(&dev.tx_wq);
}

/* Raised interrupts are taken as soon as the guest has them unmasked. */
static void take_interrupts(void)
{
    if (host_irq_masked() && !X.at_idle)
        return;
    for (int qi = 0; qi < 2; qi++)
        if (dm.irq[qi])
            take_interrupt(qi);
}

static void on_unmask(void)
{
    static bool inside;
    if (inside)
        return;
    inside = true;
    take_interrupts();
    inside = false;
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
    struct qm_dev t = dm;
    t.note = NULL;
    qm_start(&t, BH_START);
    return qm_step_may_busy(&t);
}

/* Where the oldest buffered store of an index field (avail->idx, avail->flags,
 * used_event) sits, or -1. Descriptors and ring entries are only read by the
 * device under an index it saw, and FIFO order drains them first, so drains
 * that matter end at an index store. */
static int sb_next_index(void)
{
    for (int i = 0; i < sb_len; i++)
        if (sb_at(i)->field >= F_AVAIL_IDX)
            return i;
    return -1;
}

static void sb_drain_index(void)
{
    int n = sb_next_index() + 1;
    KCHECK(n > 0);
    while (n--)
        sb_drain_one();
}

/* What the environment may do next. A drain is only worth a choice before a
 * device step (one at the end of a burst changes nothing the driver sees, and
 * the next burst or drain point can do it), so it is offered with the steps. */
static int env_actions(enum ck_act *a)
{
    int n = 0;
    if (dm.pc != QM_IDLE) {
        a[n++] = A_STEP;
        if (qm_step_may_busy(&dm))
            a[n++] = A_STEP_BUSY;
        return n;
    }
    if (qm_can_receive(&dm))
        a[n++] = A_RECEIVE;
    if (qm_can_bh(&dm)) {
        a[n++] = A_BH;
        if (bh_may_busy())
            a[n++] = A_BH_BUSY;
    }
    if (qm_can_complete(&dm))
        a[n++] = A_COMPLETE;
    if (S.plain ? sb_len > 0 : n && sb_next_index() >= 0)
        a[n++] = A_DRAIN;
    return n;
}

static void do_action(enum ck_act a, bool preempt)
{
    int first = nevents;
    X.env_steps++;
    switch (a) {
    case A_DRAIN:
        S.plain ? sb_drain_one() : sb_drain_index();
        break;
    case A_STEP:
        qm_step(&dm, false);
        break;
    case A_STEP_BUSY:
        qm_step(&dm, true);
        break;
    case A_RECEIVE:
        qm_start(&dm, RX_CHECK);
        qm_step(&dm, false);
        break;
    case A_BH:
        qm_start(&dm, BH_START);
        qm_step(&dm, false);
        break;
    case A_BH_BUSY:
        qm_start(&dm, BH_START);
        qm_step(&dm, true);
        break;
    case A_COMPLETE:
        qm_start(&dm, TC_PUSH);
        qm_step(&dm, false);
        break;
    }
    if (preempt && first < nevents)
        events[first].preempt = true;
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
static void interleave(const volatile void *load)
{
    if (!X.on || X.stop || X.in_io || X.at_idle)
        return;
    uint64_t before = load ? mem_read(load, 2) : 0;
    int irqs = dm.irqs;
    bool burst = false, drained = false;
    for (;;) {
        enum ck_act a[8];
        int n = burst || X.budget > 0 ? env_actions(a) : 0;
        int proceed = drained && !S.plain ? 0 : 1;
        int c = choose(n + proceed, true);
        if (proceed && c == 0)
            break;
        if (!burst)
            X.budget--;
        enum ck_act act = a[c - proceed];
        do_action(act, !burst);
        burst = true;
        drained = act == A_DRAIN;
    }
    if (burst && load && mem_read(load, 2) == before && dm.irqs == irqs && !X.no_branch &&
        !S.plain && !S.random) {
        X.no_branch = true;
        S.cut++;
    }
    take_interrupts();
}

/* The guest's I/O access: QEMU's big lock drains the store buffer, and waits
 * for the handler the I/O thread is running to finish. */
static void io_access(void)
{
    interleave(NULL);
    X.in_io = true;
    sb_drain_all();
    while (dm.pc != QM_IDLE) {
        bool busy = qm_step_may_busy(&dm) && choose(2, false) == 1;
        qm_step(&dm, busy);
    }
    X.in_io = false;
}

/* ---------------------------------------------------------------- the hooks */

uint64_t virtq_model_load(const volatile void *p, size_t n);
void virtq_model_store(volatile void *p, size_t n, uint64_t v);
void virtq_model_cpu_fence(void);

uint64_t virtq_model_load(const volatile void *p, size_t n)
{
    int qi;
    enum ck_field f = field_of(p, &qi);
    bool device_field = f >= F_USED_IDX && f <= F_AVAIL_EVENT;
    if (device_field)
        interleave(p);
    uint64_t v;
    if (!sb_lookup(p, n, &v))
        v = mem_read(p, n);
    if (device_field)
        ev(EV_LOAD, qi, f, (int32_t)v, 0, NULL);
    return v;
}

void virtq_model_store(volatile void *p, size_t n, uint64_t v)
{
    if (sb_len == SB_MAX)
        sb_drain_one();
    int qi;
    enum ck_field f = field_of(p, &qi);
    *sb_at(sb_len++) = (struct sb_entry){p, n, v, f, qi};
    if (f >= F_AVAIL_IDX)
        ev(EV_STORE, qi, f, (int32_t)v, 0, NULL);
}

void virtq_model_cpu_fence(void)
{
    bool drains = cfg.fence == FENCE_CPU;
    ev(EV_CPU_FENCE, 0, 0, drains, 0, NULL);
    if (drains) {
        interleave(NULL);
        sb_drain_all();
    }
}

/* The queue's fence hook in the honoured configurations: a port write. */
static void io_fence(void)
{
    io_access();
    ev(EV_IO_FENCE, 0, 0, 0, 0, NULL);
}

/* The queue's notify callback: a write to the notify register. */
static void notify(void *ctx, uint16_t queue_index)
{
    (void)ctx;
    io_access();
    ev(EV_KICK, queue_index, 0, 0, 0, NULL);
    qm_kick(&dm, queue_index);
    take_interrupts();
}

/* Device reset (the watchdog's last resort): status 0 is an I/O write. */
static void hw_stop(struct vnet_dev *d)
{
    (void)d;
    io_access();
    ev(EV_RESET, 0, 0, 0, 0, NULL);
    qm_reset(&dm);
}

static bool hw_start(struct vnet_dev *d)
{
    (void)d;
    return true;
}

/* ---------------------------------------------------------------- the guest */

#define STACK_BYTES (32 * 1024)
#define SENDER_ID0 1000 /* the sender's frames are numbered from here */
#define TIME_BOUND_NS (5ull * 1000000000ull)

static int frame_id(const struct netbuf *b, uint32_t off)
{
    return b->data[off + QM_ID_OFF] << 8 | b->data[off + QM_ID_OFF + 1];
}

/* The stack: each frame once, in the order the device wrote them. */
static void stack_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len)
{
    int id = frame_id(b, off);
    ev(EV_STACK, 0, 0, id, 0, NULL);
    /* Once each, in order; a device reset (watchdog runs) may lose some. */
    KCHECK(len == QM_FRAME_LEN && id >= X.rx_seen &&
           (id == X.rx_seen || dev.stats.resets));
    X.rx_seen = id + 1;
    X.rx_count++;
    if (cfg.stack == STACK_REFLECT)
        vnet_reflect_input(nif, b, off, len);
    else
        netbuf_unref(b);
}

/* virtio_net.c's device thread (vnet_service turns, then sleep_until_irq). */
static void device_thread(void *arg)
{
    (void)arg;
    while (!X.stop) {
        ev(EV_TURN, 0, 0, 0, 0, NULL);
        uint64_t until = vnet_service(&dev);
        if (until == VNET_AGAIN) {
            thread_yield();
            continue;
        }
        unsigned long f = plat_irq_save();
        if (!dev.irq_pending && !X.stop) {
            ev(EV_SLEEP, 0, 0, 0, 0, NULL);
            waitq_wait(&dev.wq, until);
        }
        plat_irq_restore(f);
    }
}

/* An application sending frames as fast as tx_send takes them. */
static void sender_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < cfg.tx_frames && !X.stop; i++) {
        X.sender_phase = 0;
        struct netbuf *b = vnet_tx_alloc(&dev.nif);
        if (!b)
            break; /* only when the run is over (the device is "down") */
        uint8_t *f = b->data + dev.nif.tx_headroom;
        memset(f, 0xCD, QM_FRAME_LEN);
        f[QM_ID_OFF] = (uint8_t)((SENDER_ID0 + i) >> 8);
        f[QM_ID_OFF + 1] = (uint8_t)(SENDER_ID0 + i);
        ev(EV_SEND, 0, 0, SENDER_ID0 + i, 0, NULL);
        X.sender_phase = 1;
        if (vnet_tx_send(&dev.nif, b, QM_FRAME_LEN, NULL, 0) != NETIF_OK)
            break;
        X.tx_sent++;
        thread_yield();
    }
    X.sender_done = true;
}

static void queue_init(struct virtq *vq, uint16_t index, uint16_t size)
{
    struct virtq_layout l;
    virtq_layout(size, VIRTQ_ALIGN_MODERN, &l);
    struct virtq_config c = {
        .index = index,
        .size = size,
        .mem = dma_alloc(l.total, 4096),
        .used_align = VIRTQ_ALIGN_MODERN,
        .cookies = dma_alloc(sizeof(void *) * size, 8),
        .event_idx = cfg.event_idx,
        .notify = notify,
        .fence = cfg.fence == FENCE_HONOURED ? io_fence : NULL,
    };
    virtq_init(vq, &c);
    fields_init(index == VNET_TXQ ? QM_TXQ : QM_RXQ, vq);
}

/* The device as virtio_net.c brings it up: RX buffers posted, TX interrupts off,
 * DRIVER_OK, the first RX kick; then the threads start. */
static void guest_init(void)
{
    static const struct netif_ops ops = {vnet_tx_alloc, vnet_tx_send};
    static const struct vnet_hw_ops hw = {hw_stop, hw_start};
    memset(&dev, 0, sizeof dev);
    queue_init(&dev.rxq, VNET_RXQ, cfg.rx_size);
    queue_init(&dev.txq, VNET_TXQ, cfg.tx_size);
    dev.hw = &hw;
    dev.hdr_len = VNET_HDR_LEN_V1;
    dev.max_frame = VNET_ETH_HDR + VNET_VLAN_ALLOW + 1500;
    dev.up = true;
    dev.nif.ops = &ops;
    dev.nif.drv = &dev;
    dev.nif.tx_headroom = dev.hdr_len;
    dev.nif.input = stack_input;
    if (cfg.fault_kick) {
        dev.fault = VNET_FAULT_TX_WEDGE;
        dev.fault_at = 1;
    }
    KCHECK(vnet_rx_pool_init(&dev) && vnet_tx_pool_init(&dev));
    virtq_disable_cb(&dev.txq);

    memset(&dm, 0, sizeof dm);
    qm_attach(&dm.q[QM_RXQ], &dev.rxq);
    qm_attach(&dm.q[QM_TXQ], &dev.txq);
    dm.hdr_len = dev.hdr_len;
    dm.burst = cfg.burst;
    dm.busy_max = cfg.busy_max;
    dm.rx_frames = cfg.rx_frames;
    dm.note = device_note;
    virtq_kick(&dev.rxq);
}

/* ---------------------------------------------------------------- state hashing */

/* FNV-1a style, eight bytes at a time. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    for (; n; n--, b++)
        h = (h ^ *b) * 1099511628211ull;
    return h;
}

#define FNV0 1469598103934665603ull

static uint64_t hash_rings(uint64_t h)
{
    const struct virtq *q[2] = {&dev.rxq, &dev.txq};
    for (int i = 0; i < 2; i++) {
        struct virtq_layout l;
        virtq_layout(q[i]->size, VIRTQ_ALIGN_MODERN, &l);
        h = fnv(h, q[i]->mem, l.total);
        h = fnv(h, q[i]->cookies, sizeof(void *) * q[i]->size);
    }
    struct qm_dev d = dm;
    d.note = NULL;
    d.note_ctx = NULL;
    return fnv(h, &d, sizeof d);
}

static uint64_t hash_pool(uint64_t h, const struct netbuf *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v[2] = {b[i].refs, (uint32_t)frame_id(&b[i], dev.hdr_len)};
        h = fnv(h, v, sizeof v);
    }
    return h;
}

/* Everything the rest of a run depends on, once every guest thread sleeps
 * (their stacks hold nothing else: the device thread sleeps in its loop, the
 * sender in tx_alloc or tx_send, which X.sender_phase tells apart; the clock
 * does not move in runs without timers, the only ones pruned). */
static uint64_t idle_state(void)
{
    uint64_t h = hash_rings(FNV0);
    struct vnet_dev v = dev;
    memset(&v.wq, 0, sizeof v.wq);
    memset(&v.tx_wq, 0, sizeof v.tx_wq);
    memset(&v.stats, 0, sizeof v.stats);
    memset(&v.rxq.stats, 0, sizeof v.rxq.stats);
    memset(&v.txq.stats, 0, sizeof v.txq.stats);
    v.stats.tx_packets = dev.stats.tx_packets; /* the fault injection counts them */
    h = fnv(h, &v, sizeof v);
    h = hash_pool(h, dev.rx_bufs, dev.rx_nbufs);
    h = hash_pool(h, dev.tx_bufs, dev.tx_nbufs);
    h = fnv(h, dev.tx_free, sizeof dev.tx_free[0] * dev.tx_nbufs);
    h = fnv(h, dev.slots, sizeof dev.slots[0] * dev.nslots);
    int g[6] = {virtq_model_fence_owed(), X.rx_count,        X.tx_sent, X.sender_done,
                X.sender_phase,           (int)plat_now_ns()};
    return fnv(h, g, sizeof g);
}

#define MAX_STATES (1 << 22)
static uint64_t *seen_key;
static int8_t *seen_budget;

/* Was this idle state explored already with at least this many preemptions
 * left? If so the rest of the run takes default choices: everything beyond
 * was tried from there. Only in new ground (past the replayed prefix). */
static void prune_check(void)
{
    if (!S.prune || S.plain || X.no_branch || S.depth < S.prefix || cfg.watchdog)
        return;
    uint64_t h = idle_state() | 1;
    for (size_t i = h & (MAX_STATES - 1);; i = (i + 1) & (MAX_STATES - 1)) {
        if (seen_key[i] == h) {
            if (seen_budget[i] >= X.budget) {
                X.no_branch = true;
                S.pruned++;
            } else {
                seen_budget[i] = (int8_t)X.budget;
            }
            return;
        }
        if (!seen_key[i]) {
            KCHECK(++S.states < MAX_STATES / 2);
            seen_key[i] = h;
            seen_budget[i] = (int8_t)X.budget;
            return;
        }
    }
}

/* ---------------------------------------------------------------- verdicts */

/* Has the device gone past the event the driver armed (it owes an interrupt)?
 * Read from memory: the store buffer is empty when the guest idles. */
static bool interrupt_owed(const struct virtq *vq)
{
    uint16_t used = vq->used->idx;
    if (used == vq->last_used || vq->cb_disabled)
        return false;
    if (!vq->event_idx)
        return true;
    uint16_t event = *virtq_used_event(vq->avail, vq->size);
    return virtq_idx_diff(used, vq->last_used) > virtq_idx_diff(event, vq->last_used);
}

/* Frames may be lost to a device reset or a sender giving up (watchdog runs). */
static bool lossy(void)
{
    return dev.stats.resets || dev.stats.tx_timeouts;
}

static bool work_done(void)
{
    return (X.rx_count == cfg.rx_frames || lossy()) && dm.rx_next == cfg.rx_frames &&
           !dm.rx_queued && (cfg.tx_frames == 0 || X.sender_done) &&
           dev.txq.avail->idx == dm.q[QM_TXQ].last_avail_idx;
}

/* Every guest thread asleep, the device with nothing to do: is that the end? */
static enum ck_verdict verdict(void)
{
    if (interrupt_owed(&dev.rxq) || dev.rxq.used->idx != dev.rxq.last_used)
        return V_LOST_RX_IRQ;
    if (interrupt_owed(&dev.txq))
        return V_LOST_TX_IRQ;
    if (dm.rx_queued && dev.rxq.avail->idx != dm.q[QM_RXQ].last_avail_idx)
        return V_LOST_RX_KICK;
    if (dev.txq.avail->idx != dm.q[QM_TXQ].last_avail_idx)
        return V_LOST_TX_KICK;
    return work_done() ? V_DONE : V_STUCK;
}

/* The run is over: every thread leaves its loop (the device reads as down). */
static void end_run(enum ck_verdict v)
{
    X.verdict = v;
    ev(EV_END, 0, 0, 0, 0, verdict_name[v]);
    X.stop = true;
    dev.up = false;
    X.woken += waitq_wake_all(&dev.wq);
    X.woken += waitq_wake_all(&dev.tx_wq);
}

/* Nothing can happen but a timer. Without timers that is the end; with them
 * (watchdog runs) a wedge lets the clock run to the next deadline, up to a
 * bound. Returns true when the run ended. */
static bool at_rest(uint64_t deadline)
{
    enum ck_verdict v = verdict();
    if (v == V_DONE || !cfg.watchdog) {
        end_run(v);
        return true;
    }
    if (!X.wedge) {
        X.wedge = v;
        X.wedge_at = plat_now_ns();
    }
    if (deadline == SCHED_FOREVER || deadline > TIME_BOUND_NS) {
        end_run(V_UNRECOVERED);
        return true;
    }
    ev(EV_TIMER, 0, 0, (int32_t)(deadline / 1000000), 0, NULL);
    return false;
}

/* plat_idle_until's hook: the guest halts (its store buffer drains); the device
 * acts until an interrupt wakes a thread, or nothing more can happen. */
static bool idle_hook(uint64_t deadline, void *arg)
{
    (void)arg;
    if (X.stop) { /* a thread went back to sleep while leaving: wake it again */
        X.woken = 0;
        end_run(X.verdict);
        return X.woken > 0;
    }
    interleave(NULL); /* the device may act before the vCPU gets to its hlt */
    X.at_idle = true;
    sb_drain_all();
    ev(EV_IDLE, 0, 0, 0, 0, NULL);
    X.woken = 0;
    take_interrupts();
    bool woke = X.woken > 0;
    if (!woke)
        prune_check();
    while (!woke) {
        enum ck_act a[8];
        int n = env_actions(a);
        if (n == 0) {
            woke = at_rest(deadline);
            break;
        }
        do_action(a[choose(n, false)], false);
        take_interrupts();
        woke = X.woken > 0;
    }
    X.at_idle = false;
    return woke;
}

/* ---------------------------------------------------------------- one run */

/* What left the device: each frame once, in order; at the end, all of them. */
static void check_sent_frames(void)
{
    int next_sender = SENDER_ID0, next_reflected = 0, sent = 0, reflected = 0;
    for (int i = 0; i < dm.ntx; i++) {
        int id = dm.tx_ids[i];
        if (id >= SENDER_ID0) {
            KCHECK(id == next_sender || (id > next_sender && lossy()));
            next_sender = id + 1;
            sent++;
        } else {
            KCHECK(cfg.stack == STACK_REFLECT && id >= next_reflected && id < X.rx_seen);
            next_reflected = id + 1;
            reflected++;
        }
    }
    if (X.verdict != V_DONE || lossy())
        return;
    KCHECK(sent == cfg.tx_frames && X.tx_sent == cfg.tx_frames);
    if (cfg.stack == STACK_REFLECT)
        KCHECK((uint64_t)reflected + dev.stats.tx_busy_drops == (uint64_t)X.rx_count);
    else
        KCHECK(dev.rx_posted == dev.rx_nbufs);
}

/* A fingerprint of the final state (rings, device, driver indices): how many
 * different ends the schedules reached. */
static uint64_t final_state(void)
{
    uint64_t h = hash_rings(FNV0);
    const struct virtq *q[2] = {&dev.rxq, &dev.txq};
    for (int i = 0; i < 2; i++) {
        uint16_t v[5] = {q[i]->avail_idx, q[i]->last_used, q[i]->kicked_idx,
                         q[i]->notified_idx, q[i]->num_free};
        h = fnv(h, v, sizeof v);
    }
    int w[4] = {X.verdict, X.rx_count, X.tx_sent, (int)dev.rx_posted};
    return fnv(h, w, sizeof w);
}

static void run_one(void)
{
    memset(&X, 0, sizeof X);
    memset(field_addr, 0, sizeof field_addr);
    sb_head = sb_len = 0;
    nevents = 0;
    arena_used = 0;
    S.depth = 0;
    host_clock_set(0);
    host_set_idle_hook(idle_hook, NULL);
    host_set_unmask_hook(on_unmask);
    sched_init();
    guest_init();
    X.budget = cfg.preempt;
    X.on = true;
    struct thread *t = thread_spawn("vnet0", device_thread, NULL, STACK_BYTES);
    struct thread *s =
        cfg.tx_frames ? thread_spawn("sender", sender_thread, NULL, STACK_BYTES) : NULL;
    KCHECK(t != NULL && (s != NULL || !cfg.tx_frames));
    thread_join(t, NULL);
    if (s)
        thread_join(s, NULL);
    X.on = false;
    host_set_idle_hook(NULL, NULL);
    host_set_unmask_hook(NULL);
    KCHECK(X.verdict != V_NONE);
    check_sent_frames();
}

/* ---------------------------------------------------------------- exploration */

#define MAX_FINALS (1 << 20)

struct ck_result {
    long schedules, steps, env_steps, finals;
    long by_verdict[V_COUNT];
    uint64_t finals_sum; /* the distinct final states, as a set */
    long wedged;         /* runs that reached a wedge (watchdog runs: recovered) */
    uint64_t max_recovery_ns;
    long resets;   /* runs where the watchdog reset the device */
    bool complete; /* every schedule within the bounds was run */
    long pruned;   /* schedules cut short at an idle state seen before */
    long cut;      /* ... or after a burst that changed nothing */
    long states;   /* distinct idle states (all guest threads asleep) */
    int best_len;  /* the shortest wedge: its events and schedule */
    enum ck_verdict best_verdict;
    struct choice *best;
    int best_depth;
    uint64_t seed;
};

static uint64_t *finals; /* open addressing set of final-state fingerprints */

static bool finals_add(uint64_t h)
{
    for (size_t i = h & (MAX_FINALS - 1);; i = (i + 1) & (MAX_FINALS - 1)) {
        if (finals[i] == h)
            return false;
        if (!finals[i]) {
            finals[i] = h;
            return true;
        }
    }
}

static void record(struct ck_result *r)
{
    r->schedules++;
    r->steps += X.steps;
    r->env_steps += X.env_steps;
    r->by_verdict[X.verdict]++;
    r->resets += dev.stats.resets > 0;
    uint64_t f = final_state() | 1;
    if (r->finals < MAX_FINALS / 2 && finals_add(f)) {
        r->finals++;
        r->finals_sum += f * 0x9E3779B97F4A7C15ull;
    }
    enum ck_verdict w = cfg.watchdog ? X.wedge : X.verdict;
    if (w == V_NONE || w == V_DONE)
        return;
    r->wedged++;
    if (cfg.watchdog && X.verdict == V_DONE) {
        uint64_t took = plat_now_ns() - X.wedge_at;
        if (took > r->max_recovery_ns)
            r->max_recovery_ns = took;
    }
    if (getenv("VIRTQ_CHECK_TRACE")) {
        printf("  [%s] %s after schedule %ld:\n", cfg.name, verdict_name[w],
               r->schedules);
        print_trace();
    }
    if (r->best_len && nevents >= r->best_len)
        return;
    r->best_len = nevents;
    r->best_verdict = w;
    r->best_depth = S.depth;
    memcpy(r->best, S.stack, sizeof S.stack[0] * (size_t)S.depth);
}

/* A broken invariant (KCHECK here, in the model or in the driver) aborts the
 * test: print the run that broke it first. */
static long schedule_no;

static void on_abort(int sig)
{
    (void)sig;
    if (X.on) {
        printf("  [%s] invariant broken in schedule %ld; the run so far:\n", cfg.name,
               schedule_no);
        print_trace();
        fflush(stdout);
    }
    signal(SIGABRT, SIG_DFL);
}

/* Depth-first over every schedule within the bounds (max_schedules: a safety
 * net), or n_random seeded random schedules. */
static void explore(const struct ck_cfg *c, struct ck_result *r, long max_schedules,
                    long n_random)
{
    cfg = *c;
    memset(r, 0, sizeof *r);
    r->best = calloc(MAX_CHOICES, sizeof r->best[0]);
    finals = calloc(MAX_FINALS, sizeof finals[0]);
    KCHECK(r->best && finals);
    memset(&S, 0, sizeof S);
    S.random = n_random > 0;
    S.prune = !S.random;
    S.plain = getenv("VIRTQ_CHECK_PLAIN") != NULL;
    seen_key = calloc(MAX_STATES, sizeof seen_key[0]);
    seen_budget = calloc(MAX_STATES, sizeof seen_budget[0]);
    KCHECK(seen_key && seen_budget);
    char *seed = getenv("VIRTQ_CHECK_SEED");
    r->seed = S.rng = seed ? strtoull(seed, NULL, 0) | 1 : 1;
    signal(SIGABRT, on_abort);
    for (;;) {
        if (S.random)
            S.prefix = 0;
        schedule_no = r->schedules + 1;
        run_one();
        record(r);
        if (S.random ? r->schedules >= n_random : !next_schedule()) {
            r->complete = !S.random;
            break;
        }
        if (r->schedules >= max_schedules)
            break;
    }
    r->pruned = S.pruned;
    r->cut = S.cut;
    r->states = S.states;
    free(finals);
    free(seen_key);
    free(seen_budget);
    finals = NULL;
}

/* Runs the shortest wedge's schedule again and prints it. */
static void print_best(const struct ck_result *r)
{
    memset(&S, 0, sizeof S);
    memcpy(S.stack, r->best, sizeof S.stack[0] * (size_t)r->best_depth);
    S.prefix = r->best_depth;
    run_one();
    printf("  shortest counterexample (%s, %d steps):\n", verdict_name[r->best_verdict],
           nevents);
    print_trace();
}

static void report(const struct ck_result *r)
{
    printf("  [%s] %ld schedules%s, %ld choice points, %ld device/memory steps; "
           "%ld distinct idle states, %ld distinct final states; %ld runs cut at a "
           "known state, %ld as equivalent; done %ld",
           cfg.name, r->schedules, r->complete ? " (all within the bounds)" : "",
           r->steps, r->env_steps, r->states, r->finals, r->pruned, r->cut,
           r->by_verdict[V_DONE]);
    for (int v = V_LOST_RX_IRQ; v < V_COUNT; v++)
        if (r->by_verdict[v])
            printf(", %s %ld", verdict_name[v], r->by_verdict[v]);
    if (cfg.watchdog)
        printf("; wedged then recovered %ld (%ld by a device reset), slowest recovery "
               "%llu ms",
               r->wedged, r->resets, (unsigned long long)(r->max_recovery_ns / 1000000));
    printf("\n");
}

/* ---------------------------------------------------------------- the tests */

static bool deep(void)
{
    return getenv("VIRTQ_CHECK_DEEP") != NULL;
}

#define EXHAUSTIVE_CAP 5000000 /* schedules: a bound the small cases never reach */

/* RX only: 3 frames through a 2-entry ring, the stack frees each at once. */
static const struct ck_cfg RX_SMALL = {
    .rx_size = 2,
    .tx_size = 2,
    .event_idx = true,
    .stack = STACK_SINK,
    .rx_frames = 3,
    .burst = 2,
    .preempt = 2,
};

/* TX only: a sender pushes 3 frames through a 2-entry ring (so it waits for
 * room once); the backend may be busy once. */
static const struct ck_cfg TX_SMALL = {
    .rx_size = 2,
    .tx_size = 2,
    .event_idx = true,
    .stack = STACK_SINK,
    .tx_frames = 3,
    .burst = 2,
    .busy_max = 1,
    .preempt = 2,
};

/* Both rings: 3 frames reflected through 2-entry rings (RX buffers go out on
 * TX and come back when the device is done). */
static const struct ck_cfg REFLECT_SMALL = {
    .rx_size = 2,
    .tx_size = 2,
    .event_idx = true,
    .stack = STACK_REFLECT,
    .rx_frames = 3,
    .burst = 2,
    .busy_max = 1,
    .preempt = 1,
};

/* Deeper, for random schedules: 4-entry rings, frames both ways at once. */
static const struct ck_cfg MIXED_4 = {
    .rx_size = 4,
    .tx_size = 4,
    .event_idx = true,
    .stack = STACK_REFLECT,
    .rx_frames = 10,
    .tx_frames = 6,
    .burst = 2,
    .busy_max = 3,
    .preempt = 1000,
};

static struct ck_cfg variant(struct ck_cfg c, const char *name, enum ck_fence fence,
                             int preempt)
{
    c.name = name;
    c.fence = fence;
    c.preempt = preempt;
    return c;
}

static void exhaust(const struct ck_cfg *c, struct ck_result *r)
{
    explore(c, r, EXHAUSTIVE_CAP, 0);
    report(r);
    assert_true(r->complete);
}

/* No wedge, even assuming less: taking an interrupt drains nothing. */
static void no_wedge(struct ck_cfg c)
{
    struct ck_result r;
    c.irq_keeps_buffer = true;
    exhaust(&c, &r);
    assert_int_equal(r.by_verdict[V_DONE], r.schedules);
    free(r.best);
}

/* The reductions (cutting bursts that change nothing the driver loads, drains
 * only before device steps, idle states seen before) must not change what can
 * happen: the same final states as the plain search, on small cases. */
static void test_reductions_keep_every_outcome(void **state)
{
    (void)state;
    const struct ck_cfg cases[] = {
        variant(RX_SMALL, "RX elided, 1 preemption", FENCE_ELIDED, 1),
        variant(TX_SMALL, "TX honoured, 1 preemption", FENCE_HONOURED, 1),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ck_result reduced, plain;
        exhaust(&cases[i], &reduced);
        setenv("VIRTQ_CHECK_PLAIN", "1", 1);
        exhaust(&cases[i], &plain);
        unsetenv("VIRTQ_CHECK_PLAIN");
        assert_true(plain.schedules > reduced.schedules);
        assert_int_equal(plain.finals, reduced.finals);
        assert_true(plain.finals_sum == reduced.finals_sum);
        for (int v = 0; v < V_COUNT; v++)
            assert_int_equal(plain.by_verdict[v] > 0, reduced.by_verdict[v] > 0);
        free(reduced.best);
        free(plain.best);
    }
}

/* (1) QEMU 7.2's TCG with one vCPU drops the fence: the RX interrupt is lost
 * (the driver re-arms, its store waits in the buffer, the device publishes and
 * reads the old used_event). The checker must find it. */
static void test_elided_fence_loses_rx_interrupt(void **state)
{
    (void)state;
    struct ck_result r;
    struct ck_cfg c = variant(RX_SMALL, "RX, fence elided", FENCE_ELIDED, deep() ? 3 : 2);
    exhaust(&c, &r);
    assert_true(r.by_verdict[V_LOST_RX_IRQ] > 0);
    print_best(&r);
    free(r.best);
}

/* (1) and the TX kick: the driver publishes, loads the old avail_event and
 * does not kick; the device re-enables and re-checks before the store drains. */
static void test_elided_fence_loses_tx_kick(void **state)
{
    (void)state;
    struct ck_result r;
    struct ck_cfg c = variant(TX_SMALL, "TX, fence elided", FENCE_ELIDED, deep() ? 3 : 1);
    exhaust(&c, &r);
    assert_true(r.by_verdict[V_LOST_TX_KICK] > 0);
    assert_true(r.by_verdict[V_LOST_TX_IRQ] > 0);
    print_best(&r);
    free(r.best);
}

/* (2) With the io fence no wedge is reachable within the bounds; with the CPU
 * fence working (SMP, KVM) neither; with flags instead of EVENT_IDX neither. */
static void test_honoured_fence_never_wedges(void **state)
{
    (void)state;
    int p = deep() ? 3 : 2;
    no_wedge(variant(RX_SMALL, "RX, io fence", FENCE_HONOURED, p));
    no_wedge(variant(TX_SMALL, "TX, io fence", FENCE_HONOURED, p));
    no_wedge(variant(REFLECT_SMALL, "reflector, io fence", FENCE_HONOURED, p - 1));
    no_wedge(variant(RX_SMALL, "RX, CPU fence works (SMP)", FENCE_CPU, p));
    no_wedge(variant(TX_SMALL, "TX, CPU fence works (SMP)", FENCE_CPU, p - 1));
    struct ck_cfg flags =
        variant(RX_SMALL, "RX, io fence, no EVENT_IDX", FENCE_HONOURED, p);
    flags.event_idx = false;
    no_wedge(flags);
    flags = variant(TX_SMALL, "TX, io fence, no EVENT_IDX", FENCE_HONOURED, p - 1);
    flags.event_idx = false;
    no_wedge(flags);
}

/* (3) Fence elided, but timers fire when both sleep: vnet_service's lost
 * interrupt poll and watchdog (re-kick, reset) must bring every wedge back to
 * work done. */
static void recovers(struct ck_cfg c)
{
    struct ck_result r;
    c.watchdog = true;
    exhaust(&c, &r);
    assert_true(r.wedged > 0);
    assert_int_equal(r.by_verdict[V_DONE], r.schedules);
    free(r.best);
}

static void test_watchdog_recovers_every_wedge(void **state)
{
    (void)state;
    recovers(variant(RX_SMALL, "RX, fence elided, watchdog", FENCE_ELIDED, 2));
    recovers(variant(TX_SMALL, "TX, fence elided, watchdog", FENCE_ELIDED, 1));
}

/* The checker catches a wedge that needs no memory model: the driver's own
 * fault injection (fault=tx-wedge) drops every TX kick from the second frame on,
 * re-kicks included (io fence on); the watchdog's device reset recovers it. */
static void test_dropped_kicks_caught_and_recovered(void **state)
{
    (void)state;
    struct ck_result r;
    struct ck_cfg c = variant(TX_SMALL, "TX, io fence, kicks dropped", FENCE_HONOURED, 1);
    c.fault_kick = true;
    exhaust(&c, &r);
    assert_true(r.by_verdict[V_LOST_TX_KICK] > 0);
    free(r.best);
    c.name = "TX, io fence, kicks dropped, watchdog";
    c.watchdog = true;
    exhaust(&c, &r);
    assert_int_equal(r.by_verdict[V_DONE], r.schedules);
    assert_true(r.wedged > 0 && r.resets == r.wedged);
    free(r.best);
}

/* Beyond the exhaustive bounds: seeded random schedules (any number of
 * preemptions) on 4-entry rings with traffic both ways. */
static void test_random_schedules(void **state)
{
    (void)state;
    long n = deep() ? 20000 : 300;
    struct ck_result r;
    struct ck_cfg c = variant(MIXED_4, "mixed, io fence, random", FENCE_HONOURED, 1000);
    explore(&c, &r, n, n);
    report(&r);
    printf("    (seed %llu)\n", (unsigned long long)r.seed);
    assert_int_equal(r.by_verdict[V_DONE], n);
    free(r.best);
    c = variant(MIXED_4, "mixed, fence elided, random", FENCE_ELIDED, 1000);
    explore(&c, &r, n, n);
    report(&r);
    assert_true(r.wedged > 0);
    free(r.best);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reductions_keep_every_outcome),
        cmocka_unit_test(test_elided_fence_loses_rx_interrupt),
        cmocka_unit_test(test_elided_fence_loses_tx_kick),
        cmocka_unit_test(test_honoured_fence_never_wedges),
        cmocka_unit_test(test_watchdog_recovers_every_wedge),
        cmocka_unit_test(test_dropped_kicks_caught_and_recovered),
        cmocka_unit_test(test_random_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
