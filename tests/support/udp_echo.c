/* A UDP echo server for the tests' containers (busybox-static has none):
 * binds 0.0.0.0:PORT, prints "ready", and answers every datagram with
 * "echo:" + the datagram. Built static by the test harness (`cc -static`),
 * so it runs in a busybox image. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: udp-echo PORT\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    perror("udp-echo: bind");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    char in[1500], out[1510];
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&peer, &len);
    if (n < 0) continue;
    memcpy(out, "echo:", 5);
    memcpy(out + 5, in, (size_t)n);
    sendto(fd, out, (size_t)n + 5, 0, (struct sockaddr *)&peer, len);
  }
}
