/* Compiled by tests/capi.rs with the host's cc as strict C99 (and as C++): the header must be
 * plain C. The negative-size arrays check the documented sizes at compile time. */
#include "lrkit_fw.h"

typedef char check_param_group[sizeof(lrk_param_group) == 32 ? 1 : -1];
typedef char check_sgd_config[sizeof(lrk_sgd_config) == 40 ? 1 : -1];
typedef char check_scheduler[sizeof(lrk_scheduler) == LRK_SCHEDULER_SIZE ? 1 : -1];
typedef char check_stopping[sizeof(lrk_early_stopping) == LRK_EARLY_STOPPING_SIZE ? 1 : -1];
typedef char check_negative[LRK_ERR_NULL_POINTER < 0 && -LRK_ERR_SCHEDULE == 20 ? 1 : -1];

int lrk_header_compiles(void);
int lrk_header_compiles(void) {
    lrk_scheduler s;
    lrk_param_group g = {0.1, 0.0, 0.9, 0, 1, 0, {0}};
    return (int)lrk_step_lr_init(&s, &g, 1, 3, 0.1, -1);
}
