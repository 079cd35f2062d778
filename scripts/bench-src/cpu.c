// A CPU-bound kernel for the run benchmark: the same source is built natively (gcc -O2) and for WASI
// (clang -O2). It times itself with CLOCK_MONOTONIC so process start-up and compilation stay out of the
// figure; it prints one line per repetition: "rep <i> <milliseconds> <checksum>".
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Escape-time counts over a grid: floating point and branches.
static uint64_t mandelbrot(int size, int max_iter) {
  uint64_t total = 0;
  for (int y = 0; y < size; y++) {
    for (int x = 0; x < size; x++) {
      double cr = 2.5 * x / size - 2.0, ci = 2.0 * y / size - 1.0, zr = 0, zi = 0;
      int i = 0;
      while (i < max_iter && zr * zr + zi * zi < 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        i++;
      }
      total += i;
    }
  }
  return total;
}

// Sieve of Eratosthenes: memory traffic and integer work.
static uint64_t sieve(int limit, unsigned char *marks) {
  memset(marks, 1, limit + 1);
  uint64_t sum = 0;
  for (int64_t i = 2; i <= limit; i++) {
    if (!marks[i]) continue;
    sum += i;
    for (int64_t j = i * i; j <= limit; j += i) marks[j] = 0;
  }
  return sum;
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  int limit = 8000000;
  unsigned char *marks = malloc(limit + 1);
  for (int r = 0; r < reps; r++) {
    double t0 = now_ms();
    uint64_t check = mandelbrot(700, 200) + sieve(limit, marks);
    printf("rep %d %.3f %llu\n", r, now_ms() - t0, (unsigned long long)check);
  }
  free(marks);
  return 0;
}
