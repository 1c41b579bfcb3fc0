/* Glue between the console, the virtio-net driver and the network stack: the
 * `stats` command (every counter of every layer as name=value lines) and, in
 * mode=net, bringing the stack up on each NIC. Thread context, at boot. */
#ifndef NETGLUE_H
#define NETGLUE_H

#include "cmdline.h"

/* Registers the network console commands; in mode=net, starts the stack on every
 * virtio-net interface with cfg's address. */
void netglue_start(const struct kconfig *cfg);

#endif
