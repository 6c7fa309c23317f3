#include "../RuntimeContext.h"

namespace runtime {
class Handler {
public:
  static RuntimeOutput handler(RuntimeContext &context) { return context.res.text("never"); }
};
} // namespace runtime
