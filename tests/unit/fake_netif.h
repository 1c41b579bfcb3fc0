/* A fake network interface for net/ host tests: frames fed in go through a
 * malloc'd RX netbuf (at an offset, surrounded by junk) to nif.input; frames sent
 * are captured (linear part + scatter-gather segments joined) for the test to
 * inspect. TX buffers are poisoned (0xA5) so unwritten bytes show. Counts live
 * buffers so tests can assert that every reference was released. */
#ifndef FAKE_NETIF_H
#define FAKE_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/netdev.h"
#include "net/addr.h"

#define FAKE_TX_MAX 4096
#define FAKE_HEADROOM 12 /* like virtio-net's header */
#define FAKE_RX_OFF 10

struct fake_frame {
    uint8_t *data;
    uint32_t len;
    int nsegs; /* extra segments it was sent with */
};

struct fake_netif {
    struct netif nif;
    struct fake_frame tx[FAKE_TX_MAX];
    int ntx;
    int tx_allocs;
    int tx_alloc_limit;       /* allocations allowed before NULL; -1 = no limit */
    enum netif_err tx_result; /* what tx_send answers */
    int tx_live, rx_live;     /* buffers allocated and not yet released */
    int rx_released;
};

void fake_netif_init(struct fake_netif *f, const struct eth_addr *mac, uint16_t mtu,
                     int max_segs);
/* Feeds one frame to nif.input (which must be set). */
void fake_netif_rx(struct fake_netif *f, const void *frame, uint32_t len);
/* The same in a buffer of exactly len bytes, nothing around it: AddressSanitizer
 * sees any read past the frame (the fuzzers). */
void fake_netif_rx_exact(struct fake_netif *f, const void *frame, uint32_t len);
/* Captured frame i (NULL when none), its length in *len. */
const uint8_t *fake_netif_tx(const struct fake_netif *f, int i, uint32_t *len);
void fake_netif_tx_clear(struct fake_netif *f);

#endif
