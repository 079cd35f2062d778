// The smallest useful box: greets whoever it is given, says where it runs and exits with a status.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *who = argc > 1 ? argv[1] : "world";
  char cwd[256];
  printf("hello, %s\n", who);
  if (getcwd(cwd, sizeof cwd)) printf("running in %s as %s\n", cwd, getenv("GREETER") ? getenv("GREETER") : "a box");
  return argc > 2 ? atoi(argv[2]) : 0;
}
