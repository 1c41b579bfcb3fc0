/* Names of wire values (see the net/wire/ headers) for logs and tests: one table
 * per field, "unknown" for a value without a name. */
#include "net/wire/arp.h"
#include "net/wire/eth.h"
#include "net/wire/icmp.h"
#include "net/wire/ipv4.h"

struct wire_name {
    unsigned value;
    const char *name;
};

static const char *lookup(const struct wire_name *t, size_t n, unsigned value)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].value == value)
            return t[i].name;
    return "unknown";
}
#define NAME_IN(table, value) lookup(table, sizeof table / sizeof table[0], value)

static const struct wire_name eth_types[] = {
    {ETH_TYPE_IPV4, "ipv4"}, {ETH_TYPE_ARP, "arp"}, {0x86dd, "ipv6"}, {0x8100, "vlan"}};

static const struct wire_name arp_ops[] = {{ARP_OP_REQUEST, "request"},
                                           {ARP_OP_REPLY, "reply"}};

static const struct wire_name icmp_types[] = {
    {ICMP_ECHO_REPLY, "echo_reply"},       {ICMP_DEST_UNREACH, "dest_unreach"},
    {ICMP_SOURCE_QUENCH, "source_quench"}, {ICMP_REDIRECT, "redirect"},
    {ICMP_ECHO_REQUEST, "echo_request"},   {ICMP_TIME_EXCEEDED, "time_exceeded"},
    {ICMP_PARAM_PROBLEM, "param_problem"}};

static const struct wire_name ipv4_protos[] = {
    {IPV4_PROTO_ICMP, "icmp"}, {IPV4_PROTO_TCP, "tcp"}, {IPV4_PROTO_UDP, "udp"}};

#define IPV4_WIRE_NAME(err, name) {IPV4_WIRE_##err, #name},
static const struct wire_name ipv4_errs[] = {{IPV4_WIRE_OK, "ok"},
                                             IPV4_WIRE_ERRORS(IPV4_WIRE_NAME)};

const char *eth_type_name(uint16_t type)
{
    return NAME_IN(eth_types, type);
}

const char *arp_op_name(uint16_t op)
{
    return NAME_IN(arp_ops, op);
}

const char *icmp_type_name(uint8_t type)
{
    return NAME_IN(icmp_types, type);
}

const char *ipv4_proto_name(uint8_t proto)
{
    return NAME_IN(ipv4_protos, proto);
}

const char *ipv4_wire_err_name(enum ipv4_wire_err e)
{
    return NAME_IN(ipv4_errs, e);
}
