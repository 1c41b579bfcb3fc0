/* The errors an IPv4 write (and the layers above it) can return: a closed enum
 * with documented meanings and ipv4_strerror for logs and the console.
 * X(ERR, name, text) makes IPV4_<ERR>; name is the write's counter
 * (ipv4.tx_err_<name>), text ipv4_strerror's. */
#ifndef NET_IPV4_ERR_H
#define NET_IPV4_ERR_H

#define IPV4_ERRORS(X)                                                                   \
    /* ARP gave up, or off-link with no gateway, or unconfigured */                      \
    X(ENOROUTE, no_route, "no route")                                                    \
    /* don't-fragment asked and the datagram exceeds the MTU */                          \
    X(EWOULDFRAG, would_frag, "would fragment")                                          \
    /* size + header over the MTU, or datagram over 65535 bytes */                       \
    X(ETOOBIG, too_big, "too big")                                                       \
    /* no transmit buffer, ARP queue or table slot could be had */                       \
    X(ENOBUFS, no_bufs, "no buffers")                                                    \
    /* ipv4_disconnect was called */                                                     \
    X(EDISCONNECTED, disconnected, "disconnected")                                       \
    /* a bad argument (headerf used more than size, ...) */                              \
    X(EINVAL, inval, "invalid argument")

#define IPV4_ERR_ENUM(err, name, text) IPV4_##err,
enum ipv4_err { IPV4_OK = 0, IPV4_ERRORS(IPV4_ERR_ENUM) };

const char *ipv4_strerror(enum ipv4_err e);

#endif
