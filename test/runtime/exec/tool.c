/* A small WASI command for the exec and shell tests: what it does is chosen by argv[1].
 * Built by test/runtime/exec/wasm-tool.ts with clang --target=wasm32-wasi in the tests' beforeAll. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "args";
  if (strcmp(mode, "upper") == 0) { /* stdin to stdout, upper-cased, flushed line by line */
    int c;
    while ((c = getchar()) != EOF) {
      putchar(toupper(c));
      if (c == '\n') fflush(stdout);
    }
    return 0;
  }
  if (strcmp(mode, "getenv") == 0 && argc > 2) {
    const char *v = getenv(argv[2]);
    printf("%s=%s\n", argv[2], v ? v : "(unset)");
    return 0;
  }
  if (strcmp(mode, "exit") == 0 && argc > 2) {
    fprintf(stderr, "exiting with %s\n", argv[2]);
    return atoi(argv[2]);
  }
  printf("argc=%d", argc); /* default: show argv */
  for (int i = 0; i < argc; i++) printf(" [%s]", argv[i]);
  printf("\n");
  return 0;
}
