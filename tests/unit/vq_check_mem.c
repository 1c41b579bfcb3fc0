/* The checker's memory (vq_check.h): which ring field an address is, the
 * driver's TSO store buffer, virtqueue.c's access hooks (VIRTQ_MODEL) and the
 * trace of a run.
 *
 * The store buffer: the driver's ring stores wait in a FIFO; its own loads see
 * them, the device only once they drain. Everything drains at an I/O access, at
 * the guest's hlt and (unless configured otherwise) when it takes an interrupt;
 * the CPU fence drains nothing when TCG elides it, everything when it works. */
#include <stdio.h>
#include <string.h>

#include "kernel/platform.h"
#include "tests/unit/vq_check.h"

/* ---------------------------------------------------------------- ring fields */

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

void ck_fields_init(int qi, const struct virtq *vq)
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

struct ck_event {
    uint8_t kind, qi, field;
    bool preempt; /* an env step taken while the driver ran */
    int32_t a, b;
    const char *text;
};

#define MAX_EVENTS 200000
static struct ck_event events[MAX_EVENTS];
static int nevents;

void ck_ev(enum ck_ev kind, int qi, int field, int32_t a, int32_t b, const char *text)
{
    if (!ck_run.on || nevents >= MAX_EVENTS)
        return;
    events[nevents++] =
        (struct ck_event){(uint8_t)kind, (uint8_t)qi, (uint8_t)field, false, a, b, text};
}

void ck_device_note(void *ctx, const char *what, int a, int b)
{
    (void)ctx;
    ck_ev(EV_DEVICE, 0, 0, a, b, what);
}

int ck_events(void)
{
    return nevents;
}

void ck_mark_preempt(int event)
{
    if (event < nevents)
        events[event].preempt = true;
}

static void print_device(const struct ck_event *e)
{
    printf("device   ");
    if (strncmp(e->text, "%s", 2) == 0)
        printf(e->text, queue_name(e->a), e->b);
    else
        printf(e->text, e->a, e->b);
    printf("\n");
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
        print_device(e);
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

void ck_print_trace(void)
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

void ck_mem_reset(void)
{
    memset(field_addr, 0, sizeof field_addr);
    sb_head = sb_len = 0;
    nevents = 0;
}

uint64_t ck_mem_read(const volatile void *p, size_t n)
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

int ck_sb_len(void)
{
    return sb_len;
}

void ck_sb_drain_one(void)
{
    KCHECK(sb_len > 0);
    struct sb_entry *e = sb_at(0);
    sb_head = (sb_head + 1) % SB_MAX;
    sb_len--;
    mem_write(e->p, e->n, e->v);
    if (e->field >= F_AVAIL_IDX)
        ck_ev(EV_DRAIN, e->qi, e->field, (int32_t)e->v, 0, NULL);
}

void ck_sb_drain_all(void)
{
    while (sb_len)
        ck_sb_drain_one();
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

bool ck_sb_has_index(void)
{
    return sb_next_index() >= 0;
}

void ck_sb_drain_index(void)
{
    int n = sb_next_index() + 1;
    KCHECK(n > 0);
    while (n--)
        ck_sb_drain_one();
}

static bool overlaps(const struct sb_entry *e, const volatile void *p, size_t n)
{
    uintptr_t a = (uintptr_t)e->p, b = (uintptr_t)p;
    return a < b + n && b < a + e->n;
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

/* ---------------------------------------------------------------- virtqueue.c's hooks */

uint64_t virtq_model_load(const volatile void *p, size_t n);
void virtq_model_store(volatile void *p, size_t n, uint64_t v);
void virtq_model_cpu_fence(void);

/* A load of a field the device writes is a choice point: the device may act
 * just before it. */
uint64_t virtq_model_load(const volatile void *p, size_t n)
{
    int qi;
    enum ck_field f = field_of(p, &qi);
    bool device_field = f >= F_USED_IDX && f <= F_AVAIL_EVENT;
    if (device_field)
        ck_interleave(p);
    uint64_t v;
    if (!sb_lookup(p, n, &v))
        v = ck_mem_read(p, n);
    if (device_field)
        ck_ev(EV_LOAD, qi, f, (int32_t)v, 0, NULL);
    return v;
}

/* A store needs no choice point: a device step just before it sees the same
 * memory as one just after it (the store waits in the buffer). */
void virtq_model_store(volatile void *p, size_t n, uint64_t v)
{
    if (sb_len == SB_MAX)
        ck_sb_drain_one();
    int qi;
    enum ck_field f = field_of(p, &qi);
    *sb_at(sb_len++) = (struct sb_entry){p, n, v, f, qi};
    if (f >= F_AVAIL_IDX)
        ck_ev(EV_STORE, qi, f, (int32_t)v, 0, NULL);
}

void virtq_model_cpu_fence(void)
{
    bool drains = ck_cfg.fence == FENCE_CPU;
    ck_ev(EV_CPU_FENCE, 0, 0, drains, 0, NULL);
    if (drains) {
        ck_interleave(NULL);
        ck_sb_drain_all();
    }
}
