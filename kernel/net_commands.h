/* The console commands over the network: stats, ifconfig, arp, route, dhcp,
 * ping (out of the interface the routes pick). */
#ifndef NET_COMMANDS_H
#define NET_COMMANDS_H

void net_commands_register(void);

#endif
