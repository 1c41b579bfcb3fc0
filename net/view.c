/* Out-of-line view helpers (copies, lists): off the per-packet fast path. */
#include "net/view.h"

bool view_copy_out(const struct view *v, uint32_t off, void *dst, uint32_t n)
{
    if (off > v->len || n > v->len - off)
        return false;
    memcpy(dst, view_data(v) + off, n);
    return true;
}

bool view_copy_in(const struct view *v, uint32_t off, const void *src, uint32_t n)
{
    if (off > v->len || n > v->len - off)
        return false;
    memcpy(view_data(v) + off, src, n);
    return true;
}

uint32_t view_list_len(const struct view *vs, int n)
{
    uint32_t total = 0;
    for (int i = 0; i < n; i++)
        total += vs[i].len;
    return total;
}

bool view_list_gather(const struct view *vs, int n, uint32_t skip, void *dst,
                      uint32_t len)
{
    uint8_t *out = dst;
    for (int i = 0; i < n && len > 0; i++) {
        if (skip >= vs[i].len) {
            skip -= vs[i].len;
            continue;
        }
        uint32_t take = vs[i].len - skip;
        if (take > len)
            take = len;
        memcpy(out, view_data(&vs[i]) + skip, take);
        out += take;
        len -= take;
        skip = 0;
    }
    return len == 0;
}
