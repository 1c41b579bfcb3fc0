/* The console commands over the network: stats, ifconfig, arp, ping. */
#ifndef NET_COMMANDS_H
#define NET_COMMANDS_H

void net_commands_register(void);

#endif
