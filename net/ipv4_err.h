/* The errors an IPv4 write (and the layers above it) can return: a closed enum
 * with documented meanings and ipv4_strerror for logs and the console. */
#ifndef NET_IPV4_ERR_H
#define NET_IPV4_ERR_H

enum ipv4_err {
    IPV4_OK = 0,
    IPV4_ENOROUTE,      /* ARP gave up, or off-link with no gateway, or unconfigured */
    IPV4_EWOULDFRAG,    /* don't-fragment asked and the datagram exceeds the MTU */
    IPV4_ETOOBIG,       /* size + header over the MTU, or datagram over 65535 bytes */
    IPV4_ENOBUFS,       /* no transmit buffer, ARP queue or table slot could be had */
    IPV4_EDISCONNECTED, /* ipv4_disconnect was called */
    IPV4_EINVAL,        /* a bad argument (headerf used more than size, ...) */
};

const char *ipv4_strerror(enum ipv4_err e);

#endif
