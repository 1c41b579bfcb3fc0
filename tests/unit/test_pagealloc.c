/* Page allocator logic: runs from the top, heap from the bottom, reservations,
 * exhaustion, and a randomised alloc/free soak checked against a shadow map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/pagealloc.h"

#define NPAGES 300
#define BASE ((uintptr_t)0x400000)

static struct pagealloc pa;
static uint64_t bitmap[(NPAGES + 63) / 64];

static int setup(void **state)
{
    (void)state;
    memset(bitmap, 0xFF, sizeof bitmap); /* pa_init must clear it */
    pa_init(&pa, BASE, NPAGES, bitmap);
    return 0;
}

static void test_alloc_from_top(void **state)
{
    (void)state;
    assert_int_equal(pa.free_pages, NPAGES);
    uintptr_t a = pa_alloc(&pa, 1);
    assert_int_equal(a, BASE + (NPAGES - 1) * PA_PAGE);
    uintptr_t b = pa_alloc(&pa, 4);
    assert_int_equal(b, BASE + (NPAGES - 5) * PA_PAGE);
    assert_int_equal(pa.free_pages, NPAGES - 5);
    pa_free(&pa, a, 1);
    assert_int_equal(pa_alloc(&pa, 1), a); /* the hole is reused */
    assert_int_equal(pa_alloc(&pa, 0), 0);
}

static void test_reserve(void **state)
{
    (void)state;
    pa_reserve(&pa, BASE + (NPAGES - 2) * PA_PAGE + 100, PA_PAGE); /* spans 2 pages */
    assert_int_equal(pa.free_pages, NPAGES - 2);
    assert_int_equal(pa_alloc(&pa, 1), BASE + (NPAGES - 3) * PA_PAGE);
    pa_reserve(&pa, 0, 0x1000); /* outside: ignored */
    assert_int_equal(pa.free_pages, NPAGES - 3);
}

static void test_heap_meets_runs(void **state)
{
    (void)state;
    assert_int_equal(pa_heap_grow(&pa, 10), BASE);
    assert_int_equal(pa_heap_end(&pa), BASE + 10 * PA_PAGE);
    uintptr_t r = pa_alloc(&pa, NPAGES - 10); /* all the rest */
    assert_int_equal(r, BASE + 10 * PA_PAGE);
    assert_int_equal(pa_heap_grow(&pa, 1), 0); /* taken */
    assert_int_equal(pa_alloc(&pa, 1), 0);
    pa_free(&pa, r, NPAGES - 10);
    assert_int_equal(pa_heap_grow(&pa, 5), BASE + 10 * PA_PAGE);
    assert_int_equal(pa_heap_grow(&pa, -15), BASE + 15 * PA_PAGE);
    assert_int_equal(pa_heap_end(&pa), BASE);
    assert_int_equal(pa_heap_grow(&pa, -1), 0);
    assert_int_equal(pa_heap_grow(&pa, NPAGES + 1), 0);
    assert_int_equal(pa.free_pages, NPAGES);
}

static void test_no_fit_when_fragmented(void **state)
{
    (void)state;
    uintptr_t p[NPAGES];
    for (int i = 0; i < NPAGES; i++)
        p[i] = pa_alloc(&pa, 1);
    for (int i = 0; i < NPAGES; i += 2)
        pa_free(&pa, p[i], 1);
    assert_int_equal(pa.free_pages, NPAGES / 2);
    assert_int_equal(pa_alloc(&pa, 2), 0); /* free, but never two in a row */
}

static void test_random_soak(void **state)
{
    (void)state;
    static uint8_t shadow[NPAGES];
    memset(shadow, 0, sizeof shadow);
    struct {
        uintptr_t a;
        size_t n;
    } live[64];
    int nlive = 0;
    srand(1234);
    for (int step = 0; step < 20000; step++) {
        if (nlive < 64 && rand() % 2) {
            size_t n = (size_t)(rand() % 8 + 1);
            uintptr_t a = pa_alloc(&pa, n);
            if (!a)
                continue;
            size_t first = (a - BASE) / PA_PAGE;
            for (size_t i = first; i < first + n; i++) {
                assert_int_equal(shadow[i], 0); /* never handed out twice */
                shadow[i] = 1;
            }
            live[nlive].a = a;
            live[nlive++].n = n;
        } else if (nlive > 0) {
            int k = rand() % nlive;
            size_t first = (live[k].a - BASE) / PA_PAGE;
            memset(shadow + first, 0, live[k].n);
            pa_free(&pa, live[k].a, live[k].n);
            live[k] = live[--nlive];
        }
        size_t used = 0;
        for (int i = 0; i < NPAGES; i++)
            used += shadow[i];
        assert_int_equal(pa.free_pages, NPAGES - used);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_alloc_from_top, setup),
        cmocka_unit_test_setup(test_reserve, setup),
        cmocka_unit_test_setup(test_heap_meets_runs, setup),
        cmocka_unit_test_setup(test_no_fit_when_fragmented, setup),
        cmocka_unit_test_setup(test_random_soak, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
