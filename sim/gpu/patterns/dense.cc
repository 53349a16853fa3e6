// dense: every pair allowed; the baseline every speedup is measured against.
#include "sim/gpu/patterns/families.h"
#include "sim/gpu/patterns/simple_families.h"

namespace attnsim::gpu {
namespace {

class DenseHead final : public HeadMask {
 public:
  explicit DenseHead(const MaskGeometry& geometry) : geometry_(geometry) {}
  void block_row(std::int64_t qb, BlockRow& row) override {
    row.clear();
    for (std::int64_t kb = 0; kb < geometry_.kv_blocks(); ++kb) {
      add_block(geometry_, qb, kb, false, row);
    }
  }

 private:
  MaskGeometry geometry_;
};

}  // namespace

const PatternFamily& dense_family() {
  static const SimpleFamily family(
      "dense", "  No parameters. Every query attends every key (the dense baseline).\n",
      [](PatternParams&, const MaskGeometry& g) {
        return std::make_unique<LambdaInstance>(
            [g](std::int64_t, std::uint64_t) { return std::make_unique<DenseHead>(g); },
            make_rule("allow"), LambdaInstance::Heads::kAlike);
      });
  return family;
}

}  // namespace attnsim::gpu
