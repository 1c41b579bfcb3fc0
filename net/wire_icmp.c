/* ICMP header parse/emit (see net/wire/icmp.h). */
#include "net/csum.h"
#include "net/wire/icmp.h"

enum icmp_wire_err icmp_header_parse(const struct view *v, struct icmp_repr *r)
{
    enum icmp_wire_err e = icmp_check(v);
    if (e != ICMP_WIRE_OK)
        return e;
    const uint8_t *p = view_data(v);
    r->type = p[ICMP_OFF_TYPE];
    r->code = p[ICMP_OFF_CODE];
    r->csum = net_rd16(p + ICMP_OFF_CSUM);
    r->rest = net_rd32(p + ICMP_OFF_REST);
    return ICMP_WIRE_OK;
}

void icmp_header_emit(const struct icmp_repr *r, uint8_t *p)
{
    p[ICMP_OFF_TYPE] = r->type;
    p[ICMP_OFF_CODE] = r->code;
    net_wr16(p + ICMP_OFF_CSUM, r->csum);
    net_wr32(p + ICMP_OFF_REST, r->rest);
}

bool icmp_type_is_error(uint8_t type)
{
    switch (type) {
    case ICMP_ECHO_REPLY:
    case ICMP_ECHO_REQUEST:
    case 9:  /* router advertisement */
    case 10: /* router solicitation */
    case 13: /* timestamp */
    case 14: /* timestamp reply */
    case 15: /* information request */
    case 16: /* information reply */
    case 17: /* address mask request */
    case 18: /* address mask reply */
        return false;
    default:
        return true;
    }
}

const char *icmp_type_name(uint8_t type)
{
    switch (type) {
    case ICMP_ECHO_REPLY:
        return "echo_reply";
    case ICMP_DEST_UNREACH:
        return "dest_unreach";
    case ICMP_SOURCE_QUENCH:
        return "source_quench";
    case ICMP_REDIRECT:
        return "redirect";
    case ICMP_ECHO_REQUEST:
        return "echo_request";
    case ICMP_TIME_EXCEEDED:
        return "time_exceeded";
    case ICMP_PARAM_PROBLEM:
        return "param_problem";
    default:
        return "unknown";
    }
}
