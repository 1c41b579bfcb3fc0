/* The checker's exploration (vq_check.h): stateless depth-first search over the
 * schedules' choices (each schedule re-executed from the start), exhaustive
 * within the bounds, or seeded random schedules; what the runs ended in, the
 * shortest wedge, and the counts.
 *
 * Two reductions keep the search small without losing an outcome (checked by
 * the test, which compares final states with the plain search): a burst that
 * changes nothing the driver loads is cut (vq_check_env.c), and an idle state
 * (every guest thread asleep: the whole state is in memory) already explored
 * with as many preemptions left is not explored again. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/platform.h"
#include "tests/unit/vq_check.h"

/* ---------------------------------------------------------------- idle states */

#define MAX_STATES (1 << 22)
static uint64_t *seen_key;
static int8_t *seen_budget;

/* Was this idle state explored already with at least this many preemptions
 * left? If so the rest of the run takes default choices: everything beyond
 * was tried from there. Only in new ground (past the replayed prefix), and not
 * once a timer fired (the clock moved, and a sleeping sender's deadline, which
 * only its stack knows, with it). */
void ck_prune_check(void)
{
    struct ck_sched *s = &ck_sched;
    if (!s->prune || s->plain || ck_run.no_branch || s->depth < s->prefix ||
        plat_now_ns() != 0)
        return;
    uint64_t h = ck_idle_state() | 1;
    for (size_t i = h & (MAX_STATES - 1);; i = (i + 1) & (MAX_STATES - 1)) {
        if (seen_key[i] == h) {
            if (seen_budget[i] >= ck_run.budget) {
                ck_run.no_branch = true;
                s->pruned++;
            } else {
                seen_budget[i] = (int8_t)ck_run.budget;
            }
            return;
        }
        if (!seen_key[i]) {
            KCHECK(++s->states < MAX_STATES / 2);
            seen_key[i] = h;
            seen_budget[i] = (int8_t)ck_run.budget;
            return;
        }
    }
}

/* ---------------------------------------------------------------- final states */

#define MAX_FINALS (1 << 20)
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

static void record_wedge(struct ck_result *r, enum ck_verdict w)
{
    r->wedged++;
    if (ck_cfg.watchdog && ck_run.verdict == V_DONE) {
        uint64_t took = plat_now_ns() - ck_run.wedge_at;
        if (took > r->max_recovery_ns)
            r->max_recovery_ns = took;
    }
    if (getenv("VIRTQ_CHECK_TRACE")) {
        printf("  [%s] %s after schedule %ld:\n", ck_cfg.name, ck_verdict_name[w],
               r->schedules);
        ck_print_trace();
    }
    if (r->best_len && ck_events() >= r->best_len)
        return;
    r->best_len = ck_events();
    r->best_verdict = w;
    r->best_depth = ck_sched.depth;
    memcpy(r->best, ck_sched.stack, sizeof ck_sched.stack[0] * (size_t)ck_sched.depth);
}

static void record(struct ck_result *r)
{
    r->schedules++;
    r->steps += ck_run.steps;
    r->env_steps += ck_run.env_steps;
    r->by_verdict[ck_run.verdict]++;
    r->resets += ck_dev.stats.resets > 0;
    uint64_t f = ck_final_state() | 1;
    if (r->finals < MAX_FINALS / 2 && finals_add(f)) {
        r->finals++;
        r->finals_sum += f * 0x9E3779B97F4A7C15ull;
    }
    enum ck_verdict w = ck_cfg.watchdog ? ck_run.wedge : ck_run.verdict;
    if (w != V_NONE && w != V_DONE)
        record_wedge(r, w);
}

/* ---------------------------------------------------------------- exploring */

/* A broken invariant (KCHECK in the checker, the model or the driver) aborts
 * the test: print the run that broke it first. */
static long schedule_no;

static void on_abort(int sig)
{
    (void)sig;
    if (ck_run.on) {
        printf("  [%s] invariant broken in schedule %ld; the run so far:\n", ck_cfg.name,
               schedule_no);
        ck_print_trace();
        fflush(stdout);
    }
    signal(SIGABRT, SIG_DFL);
}

static void explore_begin(const struct ck_config *c, struct ck_result *r, bool random)
{
    ck_cfg = *c;
    memset(r, 0, sizeof *r);
    memset(&ck_sched, 0, sizeof ck_sched);
    r->best = calloc(CK_MAX_CHOICES, sizeof r->best[0]);
    finals = calloc(MAX_FINALS, sizeof finals[0]);
    seen_key = calloc(MAX_STATES, sizeof seen_key[0]);
    seen_budget = calloc(MAX_STATES, sizeof seen_budget[0]);
    KCHECK(r->best && finals && seen_key && seen_budget);
    ck_sched.random = random;
    ck_sched.prune = !random;
    ck_sched.plain = getenv("VIRTQ_CHECK_PLAIN") != NULL;
    char *seed = getenv("VIRTQ_CHECK_SEED");
    r->seed = ck_sched.rng = seed ? strtoull(seed, NULL, 0) | 1 : 1;
    signal(SIGABRT, on_abort);
}

static void explore_end(struct ck_result *r)
{
    r->pruned = ck_sched.pruned;
    r->cut = ck_sched.cut;
    r->states = ck_sched.states;
    free(finals);
    free(seen_key);
    free(seen_budget);
    finals = NULL;
    seen_key = NULL;
    seen_budget = NULL;
}

void ck_explore(const struct ck_config *c, struct ck_result *r, long max_schedules,
                long n_random)
{
    explore_begin(c, r, n_random > 0);
    for (;;) {
        if (ck_sched.random)
            ck_sched.prefix = 0;
        schedule_no = r->schedules + 1;
        ck_run_one();
        record(r);
        if (ck_sched.random ? r->schedules >= n_random : !ck_next_schedule()) {
            r->complete = !ck_sched.random;
            break;
        }
        if (r->schedules >= max_schedules)
            break;
    }
    explore_end(r);
}

void ck_result_free(struct ck_result *r)
{
    free(r->best);
    r->best = NULL;
}

/* Runs the shortest wedge's schedule again and prints it. */
void ck_print_best(const struct ck_result *r)
{
    memset(&ck_sched, 0, sizeof ck_sched);
    memcpy(ck_sched.stack, r->best, sizeof ck_sched.stack[0] * (size_t)r->best_depth);
    ck_sched.prefix = r->best_depth;
    ck_run_one();
    printf("  shortest counterexample (%s, %d steps):\n",
           ck_verdict_name[r->best_verdict], ck_events());
    ck_print_trace();
}

void ck_report(const struct ck_result *r)
{
    printf("  [%s] %ld schedules%s, %ld choice points, %ld device/memory steps; "
           "%ld distinct idle states, %ld distinct final states; %ld runs cut at a "
           "known state, %ld as equivalent; done %ld",
           ck_cfg.name, r->schedules, r->complete ? " (all within the bounds)" : "",
           r->steps, r->env_steps, r->states, r->finals, r->pruned, r->cut,
           r->by_verdict[V_DONE]);
    for (int v = V_LOST_RX_IRQ; v < V_COUNT; v++)
        if (r->by_verdict[v])
            printf(", %s %ld", ck_verdict_name[v], r->by_verdict[v]);
    if (ck_cfg.watchdog)
        printf("; wedged then recovered %ld (%ld by a device reset), slowest recovery "
               "%llu ms",
               r->wedged, r->resets, (unsigned long long)(r->max_recovery_ns / 1000000));
    printf("\n");
}
