/* Shared fixtures for the net/ host tests: the first reference frames of
 * tests/bench/gen_frames.py (frame 0), the addresses they use, a plain
 * reference checksum, and builders for Ethernet/IPv4/UDP/ICMP frames with correct
 * checksums (so a test can then break exactly one thing). */
#ifndef NET_FIXTURES_H
#define NET_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

extern const uint8_t fx_icmp56_frame[98]; /* echo request id 0x1234 seq 0 */
extern const uint8_t fx_udp64_frame[106]; /* 10.0.0.1:40000 -> 10.0.0.2:7 */

/* The device under test and its peer, as in tests/bench/gen_frames.py. */
extern const struct eth_addr fx_dut_mac, fx_peer_mac;
struct ipv4_addr fx_dut_ip(void);
struct ipv4_addr fx_peer_ip(void);

/* RFC 1071 the slow way: the checksum field value (host integer). */
uint16_t fx_ref_csum(const uint8_t *p, size_t len);

/* Ethernet header at f: dst, src, type. Returns 14. */
size_t fx_eth(uint8_t *f, const struct eth_addr *dst, const struct eth_addr *src,
              uint16_t type);
/* IPv4 header (IHL 5) at p for payload_len bytes, frag = flags|offset/8 field. */
size_t fx_ipv4(uint8_t *p, struct ipv4_addr src, struct ipv4_addr dst, uint8_t proto,
               uint16_t id, uint16_t frag, uint8_t ttl, uint16_t payload_len);
/* The same with options: the first optlen & ~3 bytes of opts (at most 40).
 * Returns the header length. */
size_t fx_ipv4_opts(uint8_t *p, struct ipv4_addr src, struct ipv4_addr dst, uint8_t proto,
                    uint16_t id, uint16_t frag, uint8_t ttl, const uint8_t *opts,
                    size_t optlen, uint16_t payload_len);
/* An Ethernet frame from esrc to edst holding an ARP packet: op, sender (sha,
 * spa), target (tha, NULL for zeros; tpa); zero-padded to 60 bytes. Returns 60. */
size_t fx_arp(uint8_t *f, const struct eth_addr *edst, const struct eth_addr *esrc,
              uint16_t op, const struct eth_addr *sha, struct ipv4_addr spa,
              const struct eth_addr *tha, struct ipv4_addr tpa);
/* A whole frame from peer to DUT: Ethernet + IPv4 + bytes. Returns its length. */
size_t fx_ip_frame(uint8_t *f, uint8_t proto, uint16_t id, uint16_t frag,
                   const uint8_t *payload, size_t len);
/* UDP datagram (header + data) with a correct checksum into p. Returns 8 + len. */
size_t fx_udp(uint8_t *p, struct ipv4_addr src, struct ipv4_addr dst, uint16_t sport,
              uint16_t dport, const uint8_t *data, size_t len);
/* ICMP message type/code/rest + data with a correct checksum into p. */
size_t fx_icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data,
               size_t len);

#endif
