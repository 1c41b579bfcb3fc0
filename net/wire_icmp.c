/* Which ICMP types are errors (see net/wire/icmp.h). */
#include "net/wire/icmp.h"

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
