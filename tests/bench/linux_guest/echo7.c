/* UDP echo server (RFC 862) for the reference Linux guest of the benchmarks.
 * Static, no libc beyond sockets: binds 0.0.0.0:PORT (default 7) and sends every
 * datagram back to its sender unchanged. Built by tests/bench/build_linux_guest.py
 * with `gcc -static -O2`; /init of the guest's initramfs starts it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 7;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) { perror("echo7: socket"); return 1; }
    int big = 1 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("echo7: bind"); return 1; }
    printf("echo7: UDP echo on port %d\n", port);
    fflush(stdout);
    static char buf[65536];
    for (;;) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);
        if (n < 0)
            continue;
        sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen);
    }
}
