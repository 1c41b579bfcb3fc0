/* Views: bounds of construction, sub-views, shifts and truncation (never widen),
 * big-endian getters/setters, list gather, and reference counting that returns
 * a buffer to its owner only when the last holder releases it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/view.h"

static int released;

static void on_release(struct netbuf *b)
{
    (void)b;
    released++;
}

static uint8_t mem[64];
static struct netbuf nb = {mem, sizeof mem, 1, on_release, NULL, 0};

static void test_of_buf_bounds(void **state)
{
    (void)state;
    struct view v;
    assert_true(view_of_buf(&v, &nb, 0, 64));
    assert_true(view_of_buf(&v, &nb, 64, 0));
    assert_false(view_of_buf(&v, &nb, 65, 0));
    assert_false(view_of_buf(&v, &nb, 10, 55));
    assert_false(view_of_buf(&v, &nb, 1, UINT32_MAX)); /* no wrap-around */
    assert_true(view_of_buf(&v, &nb, 10, 54));
    assert_ptr_equal(view_data(&v), mem + 10);
    assert_int_equal(v.len, 54);
}

static void test_sub_shift_truncate(void **state)
{
    (void)state;
    struct view v, s;
    assert_true(view_of_buf(&v, &nb, 8, 32));
    assert_true(view_sub(&v, 4, 28, &s));
    assert_ptr_equal(view_data(&s), mem + 12);
    assert_int_equal(s.len, 28);
    assert_false(view_sub(&v, 4, 29, &s));
    assert_false(view_sub(&v, 33, 0, &s));
    assert_false(view_sub(&v, 1, UINT32_MAX, &s));
    assert_true(view_shift(&v, 30));
    assert_int_equal(v.len, 2);
    assert_ptr_equal(view_data(&v), mem + 38);
    assert_false(view_shift(&v, 3));
    assert_int_equal(v.len, 2);
    assert_false(view_truncate(&v, 3));
    assert_true(view_truncate(&v, 1));
    assert_int_equal(v.len, 1);
}

static void test_copy_in_out(void **state)
{
    (void)state;
    memset(mem, 0xa5, sizeof mem);
    struct view v;
    assert_true(view_of_buf(&v, &nb, 1, 8));
    assert_true(view_copy_in(&v, 0, "\x12\x34\xde\xad\xbe\xef", 6));
    assert_true(view_copy_in(&v, 7, "\x42", 1));
    const uint8_t want[] = {0xa5, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0xa5, 0x42, 0xa5};
    assert_memory_equal(mem, want, sizeof want);
    uint8_t out[3];
    assert_true(view_copy_out(&v, 5, out, 3));
    assert_memory_equal(out, "\xef\xa5\x42", 3);
    assert_false(view_copy_out(&v, 6, out, 3));
    assert_false(view_copy_in(&v, 7, "ab", 2)); /* nothing copied */
    assert_memory_equal(mem, want, sizeof want);
}

static void test_list_gather(void **state)
{
    (void)state;
    uint8_t a[] = {1, 2, 3}, b[] = {4}, c[] = {5, 6, 7, 8};
    struct view vs[4] = {view_of_mem(a, 3), view_of_mem(NULL, 0), view_of_mem(b, 1),
                         view_of_mem(c, 4)};
    assert_int_equal(view_list_len(vs, 4), 8);
    uint8_t out[8];
    assert_true(view_list_gather(vs, 4, 2, out, 5));
    const uint8_t want[] = {3, 4, 5, 6, 7};
    assert_memory_equal(out, want, 5);
    assert_false(view_list_gather(vs, 4, 4, out, 5));
    assert_true(view_list_gather(vs, 4, 8, out, 0));
}

static void test_refcount_releases_once(void **state)
{
    (void)state;
    released = 0;
    nb.refs = 1;
    struct view v, s;
    assert_true(view_of_buf(&v, &nb, 0, 10));
    assert_true(view_sub(&v, 2, 2, &s));
    view_ref(&s); /* a holder keeps the sub-view */
    assert_int_equal(nb.refs, 2);
    netbuf_unref(&nb); /* the lender drops its reference */
    assert_int_equal(released, 0);
    view_release(&s);
    assert_int_equal(released, 1);
    assert_int_equal(nb.refs, 0);
    assert_null(s.buf);
    struct view m = view_of_mem(mem, 4);
    view_ref(&m);
    view_release(&m); /* plain memory: no-op */
    assert_int_equal(released, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_of_buf_bounds),
        cmocka_unit_test(test_sub_shift_truncate),
        cmocka_unit_test(test_copy_in_out),
        cmocka_unit_test(test_list_gather),
        cmocka_unit_test(test_refcount_releases_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
