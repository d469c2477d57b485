/*
 * The test runner's main. See runner.h.
 */
#include "runner.h"

#include <valgrind/valgrind.h>

static struct ac_test_entry *tests;

void ac_test_register(struct ac_test_entry *e) {
  e->next = tests;
  tests = e;
}

double ac_test_time_multiplier(void) {
  const char *s = getenv("AC_TEST_TIMEOUT_MULTIPLIER");
  double m = s ? strtod(s, NULL) : 0;
  if (m <= 0) m = 1;
  if (RUNNING_ON_VALGRIND) m *= 20;
  return m;
}

int ac_test_on_valgrind(void) { return RUNNING_ON_VALGRIND ? 1 : 0; }

int main(int argc, char **argv) {
  struct ac_test_entry *e;
  if (argc < 2 || strcmp(argv[1], "--list") == 0) {
    for (e = tests; e != NULL; e = e->next)
      printf("%s%s\n", e->name, e->slow ? " (slow)" : "");
    return 0;
  }
  for (e = tests; e != NULL; e = e->next) {
    if (strcmp(e->name, argv[1]) == 0) {
      /* Unbuffered so that a test that aborts still shows what it printed. */
      setvbuf(stdout, NULL, _IONBF, 0);
      e->fn();
      printf("ok %s\n", e->name);
      return 0;
    }
  }
  fprintf(stderr, "ac_tests: no test named '%s' (try --list)\n", argv[1]);
  return 2;
}
