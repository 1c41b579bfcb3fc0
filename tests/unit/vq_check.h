/* The interleaving checker of test_virtq_interleave.c: the virtio-net driver
 * (vnet_datapath.c on virtqueue.c, real code) against qemu_net_model.h's device,
 * with the driver's ring stores going through a store buffer, explored over
 * every schedule of driver steps, device steps and drains within bounds.
 *   vq_check_mem.c      ring fields, the store buffer, virtqueue.c's hooks, the trace
 *   vq_check_env.c      the schedule's choices, device steps, interleaving points
 *   vq_check_guest.c    the guest (device thread, stack, sender), interrupts, the
 *                       idle hook, verdicts, one run
 *   vq_check_explore.c  depth-first and random exploration, reports
 * Host tests only; one run at a time (globals). */
#ifndef VQ_CHECK_H
#define VQ_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/vnet_dev.h"
#include "tests/unit/qemu_net_model.h"

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

struct ck_config {
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
    int preempt;     /* bursts of env steps while the driver runs */
    bool watchdog;   /* timers fire when both sleep with work pending */
    bool fault_kick; /* the driver's fault injection: drop TX kicks until a reset */
};

/* ---------------------------------------------------------------- a run */

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

extern const char *const ck_verdict_name[V_COUNT];

struct ck_run {
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
    bool no_branch;   /* default choices from here (state known, or run cut) */
    enum ck_verdict verdict;
    enum ck_verdict wedge; /* the first wedge of a watchdog run */
    uint64_t wedge_at;     /* and when */
    long steps, env_steps;
};

extern struct ck_config ck_cfg; /* the configuration being explored */
extern struct ck_run ck_run;    /* the run in progress */
extern struct vnet_dev ck_dev;  /* the driver's device */
extern struct qm_dev ck_dm;     /* the model device */

/* ---------------------------------------------------------------- vq_check_mem.c */

enum ck_field {
    F_RING = 0, /* descriptors, ring entries: no need to name them */
    F_USED_IDX, /* device-written fields the driver loads: choice points */
    F_USED_FLAGS,
    F_AVAIL_EVENT,
    F_AVAIL_IDX, /* driver-written index fields the device loads: traced */
    F_AVAIL_FLAGS,
    F_USED_EVENT,
};

void ck_fields_init(int qi, const struct virtq *vq);
void ck_mem_reset(void);
uint64_t ck_mem_read(const volatile void *p, size_t n);
int ck_sb_len(void);
bool ck_sb_has_index(void);
void ck_sb_drain_one(void);
void ck_sb_drain_index(void); /* up to the oldest index store, inclusive */
void ck_sb_drain_all(void);

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

void ck_ev(enum ck_ev kind, int qi, int field, int32_t a, int32_t b, const char *text);
void ck_device_note(void *ctx, const char *what, int a, int b);
int ck_events(void);
void ck_mark_preempt(int event); /* that event began a preemption */
void ck_print_trace(void);

/* ---------------------------------------------------------------- vq_check_env.c */

#define CK_MAX_CHOICES 100000

struct ck_choice {
    uint8_t n, c;
};

/* The schedule: choices replayed up to prefix, then extended. */
struct ck_sched {
    struct ck_choice stack[CK_MAX_CHOICES];
    int depth, prefix;
    bool random;
    bool prune; /* skip idle states already explored with as many preemptions left */
    bool plain; /* no reductions at all (to check that they change no outcome) */
    uint64_t rng;
    long pruned, cut, states;
};

extern struct ck_sched ck_sched;

int ck_choose(int n, bool driver_running);
bool ck_next_schedule(void);
void ck_interleave(const volatile void *load);
void ck_io_access(void);
void ck_notify(void *ctx, uint16_t queue_index); /* virtq notify callback */
void ck_io_fence(void);                          /* virtq fence hook */
/* Every env step possible at idle, taken in turn as the schedule says, until
 * an interrupt wakes a thread (true) or none is left (false). */
bool ck_env_at_idle(void);

/* ---------------------------------------------------------------- vq_check_guest.c */

void ck_take_interrupts(void);
void ck_run_one(void);
uint64_t ck_idle_state(void);
uint64_t ck_final_state(void);

/* ---------------------------------------------------------------- vq_check_explore.c */

struct ck_result {
    long schedules, steps, env_steps, finals;
    long by_verdict[V_COUNT];
    uint64_t finals_sum; /* the distinct final states, as a set */
    long wedged;         /* runs that reached a wedge (watchdog runs: recovered) */
    uint64_t max_recovery_ns;
    long resets;   /* runs where the watchdog reset the device */
    bool complete; /* every schedule within the bounds was run */
    long pruned;   /* runs cut short at an idle state seen before */
    long cut;      /* ... or after a burst that changed nothing */
    long states;   /* distinct idle states (all guest threads asleep) */
    int best_len;  /* the shortest wedge: its events and schedule */
    enum ck_verdict best_verdict;
    struct ck_choice *best;
    int best_depth;
    uint64_t seed;
};

void ck_prune_check(void);
/* Every schedule within the bounds (max_schedules: a safety net), or n_random
 * seeded random ones. r->best is allocated: ck_result_free. */
void ck_explore(const struct ck_config *c, struct ck_result *r, long max_schedules,
                long n_random);
void ck_result_free(struct ck_result *r);
void ck_report(const struct ck_result *r);
void ck_print_best(const struct ck_result *r);

#endif
