#include "sim/common/npy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sim/common/atomic_file.h"
#include "sim/common/input_error.h"
#include "tests/support/input_error_of.h"
#include "tests/support/npy_fixtures.h"
#include "tests/support/scratch_dir.h"

namespace attnsim::common {
namespace {

using attnsim::testing::input_error_of;

namespace fs = std::filesystem;

class NpyTest : public ::testing::Test {
 protected:
  // Runs a Python snippet with numpy in dir_; false if Debian's python3/numpy is unavailable.
  bool python(const std::string& code) {
    const fs::path script = dir_ / "snippet.py";
    std::ofstream(script) << "import numpy as np, os\nos.chdir(r'" << dir_.string() << "')\n"
                          << code;
    const std::string command =
        "/usr/bin/python3 " + script.string() + " 2>" + (dir_ / "python.err").string();
    return std::system(command.c_str()) == 0;
  }
  bool have_numpy() { return python("pass\n"); }

  attnsim::testing::ScratchDir scratch_;
  const fs::path dir_ = scratch_.path();
};

TEST_F(NpyTest, SerializeThenParseKeepsDtypeShapeAndValues) {
  const auto original = NpyArray::from<std::int32_t>({2, 3}, {1, -2, 3, -4, 5, 2147483647});
  const NpyArray back = parse_npy(serialize_npy(original), "mem");
  EXPECT_EQ(back.dtype, DType::kInt32);
  EXPECT_EQ(back.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(back.to_int64("mem", "a"), (std::vector<std::int64_t>{1, -2, 3, -4, 5, 2147483647}));
  // Data starts on a 64-byte boundary, as numpy.save writes it.
  EXPECT_EQ((serialize_npy(original).size() - back.bytes.size()) % 64, 0u);
}

TEST_F(NpyTest, ScalarAndOneDimensionalShapes) {
  const NpyArray scalar = parse_npy(serialize_npy(NpyArray::from<std::int64_t>({}, {128})), "m");
  EXPECT_TRUE(scalar.shape.empty());
  EXPECT_EQ(scalar.to_int64("m", "block_q"), std::vector<std::int64_t>{128});
  const NpyArray vec = parse_npy(serialize_npy(NpyArray::from<double>({3}, {0.5, 1, 2})), "m");
  EXPECT_EQ(vec.shape, std::vector<std::int64_t>{3});
}

TEST_F(NpyTest, FloatArraysDoNotConvertToIntegers) {
  const auto floats = NpyArray::from<float>({2}, {1.0f, 2.5f});
  const std::string error = input_error_of([&] { floats.to_int64("m.npz", "kv_indices"); });
  EXPECT_EQ(error, "m.npz: array 'kv_indices': expected an integer or bool dtype, got float32");
  EXPECT_EQ(floats.to_float64("m", "x"), (std::vector<double>{1.0, 2.5}));
}

// Found by fuzz_npy (2026-12-03): huge extents before a zero made size() overflow a signed
// product (UBSan, the sanitize preset) although the array is empty. It reads as empty, and its
// values convert to nothing.
TEST_F(NpyTest, AZeroExtentAfterHugeOnesIsAnEmptyArray) {
  std::string header =
      "{'descr': '|u1', 'fortran_order': False, 'shape': (3037000500, "
      "3037000500, 0), }";  // 3037000500^2: above 2^63 (signed overflow), below 2^64
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  const NpyArray array = parse_npy(bytes, "zero.npy");
  EXPECT_EQ(array.size(), 0);
  EXPECT_TRUE(array.to_int64("zero.npy", "a").empty());
  EXPECT_TRUE(array.to_float64("zero.npy", "a").empty());
}

TEST_F(NpyTest, TruncatedAndForeignDataAreInputErrors) {
  std::string bytes = serialize_npy(NpyArray::from<double>({4}, {1, 2, 3, 4}));
  EXPECT_NE(input_error_of([&] {
              parse_npy(bytes.substr(0, bytes.size() - 3), "t.npy");
            }).find("(truncated)"),
            std::string::npos);
  EXPECT_NE(input_error_of([&] { parse_npy(bytes.substr(0, 5), "t.npy"); }).find("t.npy"),
            std::string::npos);
  EXPECT_NE(
      input_error_of([&] { parse_npy("PK\x03\x04 not numpy at all", "x.npy"); }).find("npy magic"),
      std::string::npos);
  std::string big_endian = bytes;
  big_endian.replace(big_endian.find("<f8"), 3, ">f8");
  EXPECT_NE(input_error_of([&] { parse_npy(big_endian, "b.npy"); }).find("'>f8'"),
            std::string::npos);
}

TEST_F(NpyTest, NpzRoundTripIsByteIdenticalAndAtomic) {
  NpzWriter writer(dir_ / "m.npz");
  writer.add("full", NpyArray::from<bool>({1, 2, 2}, {true, false, false, true}));
  writer.add("block_q", NpyArray::from<std::int64_t>({}, {128}));
  EXPECT_FALSE(fs::exists(dir_ / "m.npz"));  // nothing until commit
  writer.commit();
  NpzWriter again(dir_ / "m2.npz");
  again.add("full", NpyArray::from<bool>({1, 2, 2}, {true, false, false, true}));
  again.add("block_q", NpyArray::from<std::int64_t>({}, {128}));
  again.commit();
  EXPECT_EQ(read_file(dir_ / "m.npz"), read_file(dir_ / "m2.npz"));

  const NpzReader reader(dir_ / "m.npz");
  EXPECT_EQ(reader.names(), (std::vector<std::string>{"block_q", "full"}));
  EXPECT_EQ(reader.get("full").to_int64("", ""), (std::vector<std::int64_t>{1, 0, 0, 1}));
  EXPECT_EQ(input_error_of([&] { reader.get("partial"); }),
            (dir_ / "m.npz").string() +
                ": array 'partial': expected a present array, got missing (the file has: "
                "block_q, full)");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), {}), 2);  // no temporaries left
}

TEST_F(NpyTest, NpzThroughASymlinkKeepsTheLink) {
  NpzWriter first(dir_ / "real.npz");
  first.add("a", NpyArray::from<std::int32_t>({1}, {1}));
  first.commit();
  fs::create_symlink(dir_ / "real.npz", dir_ / "link.npz");
  NpzWriter second(dir_ / "link.npz");
  second.add("a", NpyArray::from<std::int32_t>({1}, {2}));
  second.commit();
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.npz"));
  EXPECT_EQ(NpzReader(dir_ / "real.npz").get("a").to_int64("", ""), std::vector<std::int64_t>{2});
}

TEST_F(NpyTest, CorruptAndTruncatedNpzAreInputErrorsNamingTheFile) {
  NpzWriter writer(dir_ / "m.npz");
  std::vector<double> values(4096);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i * i % 977);
  writer.add("q", NpyArray::from<double>({4096}, values));
  writer.commit();
  const std::string good = read_file(dir_ / "m.npz");
  write_file_atomically(dir_ / "truncated.npz", good.substr(0, good.size() / 2));
  EXPECT_NE(input_error_of([&] { NpzReader r(dir_ / "truncated.npz"); }).find("truncated.npz"),
            std::string::npos);
  std::string flipped = good;
  flipped[good.size() / 3] = static_cast<char>(flipped[good.size() / 3] ^ 0x5a);
  write_file_atomically(dir_ / "corrupt.npz", flipped);
  EXPECT_NE(input_error_of([&] { NpzReader r(dir_ / "corrupt.npz"); }).find("corrupt.npz"),
            std::string::npos);
  EXPECT_NE(input_error_of([&] { NpzReader r(dir_ / "absent.npz"); }).find("file not found"),
            std::string::npos);
}

TEST_F(NpyTest, ReadsWhatNumpyWrites) {
  if (!have_numpy()) GTEST_SKIP() << "Debian python3 with numpy not available";
  ASSERT_TRUE(
      python("a = np.arange(24, dtype=np.int32).reshape(2, 3, 4)\n"
             "np.savez('plain.npz', a=a, f=np.asfortranarray(a.astype(np.float32)),\n"
             "         b=(a % 3 == 0), h=np.array([0.5, -2, 65504], dtype=np.float16))\n"
             "np.savez_compressed('packed.npz', a=a.astype(np.uint8))\n"
             "np.save('one.npy', np.int64(7))\n"));
  for (const char* file : {"plain.npz", "packed.npz"}) {
    const NpzReader reader(dir_ / file);
    const std::vector<std::int64_t> a = reader.get("a").to_int64(file, "a");
    ASSERT_EQ(a.size(), 24u);
    for (std::int64_t i = 0; i < 24; ++i) EXPECT_EQ(a[i], i) << file;
    EXPECT_EQ(reader.get("a").shape, (std::vector<std::int64_t>{2, 3, 4}));
  }
  const NpzReader plain(dir_ / "plain.npz");
  const std::vector<double> f = plain.get("f").to_float64("plain", "f");  // Fortran order
  for (std::int64_t i = 0; i < 24; ++i) EXPECT_EQ(f[i], static_cast<double>(i));
  const std::vector<std::int64_t> b = plain.get("b").to_int64("plain", "b");
  for (std::int64_t i = 0; i < 24; ++i) EXPECT_EQ(b[i], i % 3 == 0 ? 1 : 0);
  EXPECT_EQ(plain.get("h").to_float64("plain", "h"), (std::vector<double>{0.5, -2, 65504}));
  EXPECT_EQ(read_npy(dir_ / "one.npy").to_int64("one", "x"), std::vector<std::int64_t>{7});
}

TEST_F(NpyTest, NumpyReadsWhatWeWrite) {
  if (!have_numpy()) GTEST_SKIP() << "Debian python3 with numpy not available";
  NpzWriter writer(dir_ / "ours.npz");
  writer.add("kv_num_blocks", NpyArray::from<std::int32_t>({1, 2, 3}, {0, 1, 2, 3, 4, 5}));
  writer.add("seq", NpyArray::from<double>({2}, {0.25, -1e300}));
  writer.add("flag", NpyArray::from<bool>({3}, {true, false, true}));
  writer.commit();
  write_npy(dir_ / "ours.npy", NpyArray::from<std::uint8_t>({2, 2}, {1, 2, 3, 255}));
  EXPECT_TRUE(python(
      "z = np.load('ours.npz')\n"
      "assert z['kv_num_blocks'].dtype == np.int32 and z['kv_num_blocks'].shape == (1, 2, 3)\n"
      "assert (z['kv_num_blocks'].ravel() == np.arange(6)).all()\n"
      "assert list(z['seq']) == [0.25, -1e300] and z['flag'].dtype == bool\n"
      "assert list(z['flag']) == [True, False, True]\n"
      "o = np.load('ours.npy')\n"
      "assert o.dtype == np.uint8 and o.tolist() == [[1, 2], [3, 255]]\n"));
}

TEST_F(NpyTest, TextArraysRoundTripAsNumpyStrings) {
  const NpyArray text = NpyArray::from_text("band,left=300,right=300 \xc3\xa9");
  EXPECT_EQ(text.dtype, DType::kUnicode);
  EXPECT_TRUE(text.shape.empty());
  EXPECT_EQ(text.chars, 25);  // code points, not UTF-8 bytes
  const std::string bytes = serialize_npy(text);
  EXPECT_NE(bytes.find("'descr': '<U25'"), std::string::npos);
  const NpyArray back = parse_npy(bytes, "m");
  EXPECT_EQ(back.to_text("m", "rule"), "band,left=300,right=300 \xc3\xa9");
  // 'S' strings and uint8 byte arrays give their bytes; NUL padding is dropped.
  NpyArray s;
  s.dtype = DType::kBytes;
  s.chars = 8;
  s.bytes = {'c', 'a', 'u', 's', 'a', 'l', 0, 0};
  EXPECT_EQ(parse_npy(serialize_npy(s), "m").to_text("m", "rule"), "causal");
  const auto u8 = NpyArray::from<std::uint8_t>({6}, {'c', 'a', 'u', 's', 'a', 'l'});
  EXPECT_EQ(u8.to_text("m", "rule"), "causal");
  // Numbers are not text, and text is not numbers.
  EXPECT_EQ(input_error_of([] { NpyArray::from<std::int64_t>({}, {3}).to_text("m.npz", "rule"); }),
            "m.npz: array 'rule': expected one string (numpy str or bytes, 0-d) or a 1-d uint8 "
            "array of bytes, got int64 of shape []");
  EXPECT_NE(input_error_of([&] { back.to_int64("m.npz", "rule"); }), "");
}

TEST_F(NpyTest, NumpyStringsBothWays) {
  if (!have_numpy()) GTEST_SKIP() << "Debian python3 with numpy not available";
  ASSERT_TRUE(
      python("np.savez('s.npz', u='causal_window,window=7', b=np.bytes_(b'causal'),\n"
             "         v=np.frombuffer(b'allow', dtype=np.uint8))\n"));
  const NpzReader npz(dir_ / "s.npz");
  EXPECT_EQ(npz.get("u").to_text("s", "u"), "causal_window,window=7");
  EXPECT_EQ(npz.get("b").to_text("s", "b"), "causal");
  EXPECT_EQ(npz.get("v").to_text("s", "v"), "allow");
  NpzWriter out(dir_ / "w.npz");
  out.add("rule", NpyArray::from_text("prefix_lm,prefix=17"));
  out.commit();
  EXPECT_TRUE(
      python("r = np.load('w.npz')['rule']\n"
             "assert r.dtype.kind == 'U' and r.shape == (), (r.dtype, r.shape)\n"
             "assert str(r) == 'prefix_lm,prefix=17', str(r)\n"))
      << common::read_file(dir_ / "python.err");
}

// A header may claim any shape: the element count is computed with overflow checks and compared
// with the bytes present before anything is allocated or mapped (issue #13).
TEST_F(NpyTest, AHeaderClaimingMoreDataThanTheFileHoldsIsAnInputError) {
  const std::string file = testing::npy_claiming_an_astronomical_shape();
  ASSERT_EQ(file.size(), 128u);
  write_file_atomically(dir_ / "huge.npy", file);
  const std::string overflow = input_error_of([&] { map_npy(dir_ / "huge.npy"); });
  EXPECT_EQ(overflow, (dir_ / "huge.npy").string() +
                          ": npy header 'shape': expected a shape whose data fits the 0 bytes "
                          "present, got (8589934592, 2147483648, 2) (more than 2^64 bytes of "
                          "int32)");
  EXPECT_EQ(input_error_of([&] { read_npy(dir_ / "huge.npy"); }), overflow);
  // A product that fits 64 bits but not the file is the data-size error.
  std::string big = file;
  big.replace(big.find("(8589934592, 2147483648, 2)"), 27, "(4294967296, 2, 2)         ");
  write_file_atomically(dir_ / "big.npy", big);
  EXPECT_EQ(input_error_of([&] { map_npy(dir_ / "big.npy"); }),
            (dir_ / "big.npy").string() +
                ": data: expected 68719476736 bytes for shape and dtype, got 0 bytes (truncated)");
  // The same header as an .npz member names the archive and the array.
  if (!have_numpy()) GTEST_SKIP() << "Debian python3 with numpy not available";
  ASSERT_TRUE(
      python("import zipfile\n"
             "with zipfile.ZipFile('member.npz', 'w') as z:\n"
             "    z.write('huge.npy', 'kv_indices.npy')\n"));
  EXPECT_EQ(input_error_of([&] { NpzReader r(dir_ / "member.npz"); }),
            (dir_ / "member.npz").string() +
                ": array 'kv_indices': npy header 'shape': expected a shape whose data fits the 0 "
                "bytes present, got (8589934592, 2147483648, 2) (more than 2^64 bytes of int32)");
}

TEST_F(NpyTest, ZeroLengthStringDtypesAreInputErrors) {
  // Found by fuzz_npy: '<U0' elements take no bytes, so nothing bounds their count, and the
  // Fortran-order conversion divided by the element size.
  std::string file = testing::npy_claiming_an_astronomical_shape();
  file.replace(file.find("'<i4', 'fortran_order': False"), 29, "'<U0', 'fortran_order': True ");
  EXPECT_EQ(input_error_of([&] { parse_npy(file, "s.npy"); }),
            "s.npy: dtype: expected strings of at least 1 character, got '<U0'");
  file.replace(file.find("'<U0'"), 5, "'|S0'");
  EXPECT_EQ(input_error_of([&] { parse_npy(file, "s.npy"); }),
            "s.npy: dtype: expected strings of at least 1 character, got '|S0'");
}

TEST_F(NpyTest, StoredMembersAreViewedInPlaceWithTheirDtype) {
  if (!have_numpy()) GTEST_SKIP() << "Debian python3 with numpy not available";
  ASSERT_TRUE(
      python("i = np.arange(1000, dtype=np.int32).reshape(10, 100)\n"
             "np.savez('stored.npz', i=i, j=i[::-1].copy())\n"
             "np.savez_compressed('packed.npz', i=i, j=i[::-1].copy())\n"
             "np.save('one.npy', i)\n"));
  const NpzReader stored(dir_ / "stored.npz");
  const NpyView& i = stored.view("i");
  const NpyView& j = stored.view("j");
  EXPECT_EQ(i.dtype, DType::kInt32);  // not widened
  EXPECT_EQ(i.shape, (std::vector<std::int64_t>{10, 100}));
  // Both stored members point into the one mapping of the file; deflated ones into their own.
  EXPECT_EQ(i.owner.get(), j.owner.get());
  ASSERT_EQ(i.byte_size, 4000u);
  std::int32_t last = 0;
  std::memcpy(&last, i.data + 3996, 4);
  EXPECT_EQ(last, 999);
  std::memcpy(&last, j.data, 4);
  EXPECT_EQ(last, 900);
  const NpzReader packed(dir_ / "packed.npz");
  EXPECT_NE(packed.view("i").owner.get(), packed.view("j").owner.get());
  EXPECT_EQ(packed.get("j").bytes, stored.get("j").bytes);
  const NpyView one = map_npy(dir_ / "one.npy");
  EXPECT_EQ(one.dtype, DType::kInt32);
  EXPECT_EQ(std::vector<std::uint8_t>(one.data, one.data + one.byte_size), stored.get("i").bytes);
}

TEST_F(NpyTest, AStoredMemberWithAFlippedByteFailsItsCrc) {
  if (!have_numpy()) GTEST_SKIP() << "Debian python3 with numpy not available";
  ASSERT_TRUE(python("np.savez('s.npz', a=np.arange(4096, dtype=np.int32))\n"));
  std::string bytes = read_file(dir_ / "s.npz");
  const std::size_t at = bytes.size() / 2;  // inside the data of the only member
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  write_file_atomically(dir_ / "flipped.npz", bytes);
  const std::string error = input_error_of([&] { NpzReader r(dir_ / "flipped.npz"); });
  EXPECT_EQ(
      error.rfind((dir_ / "flipped.npz").string() + ": member 'a.npy': expected CRC-32 0x", 0), 0u)
      << error;
  EXPECT_NE(error.find("(corrupt)"), std::string::npos) << error;
}

TEST_F(NpyTest, NumpyReadsLargeMembersWeWriteAndWeReadThemBack) {
  if (!have_numpy()) GTEST_SKIP() << "Debian python3 with numpy not available";
  // Incompressible data is stored, compressible data deflated; both are read by numpy and us.
  std::vector<std::int64_t> noise(1 << 16);
  std::uint64_t x = 88172645463325252ull;
  for (auto& v : noise) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v = static_cast<std::int64_t>(x);
  }
  std::vector<std::int32_t> ramp(1 << 16);
  for (std::size_t k = 0; k < ramp.size(); ++k) ramp[k] = static_cast<std::int32_t>(k % 300);
  NpzWriter writer(dir_ / "big.npz");
  writer.add("noise", NpyArray::from<std::int64_t>({1 << 16}, noise));
  writer.add("ramp", NpyArray::from<std::int32_t>({1 << 8, 1 << 8}, ramp));
  writer.commit();
  EXPECT_TRUE(python(
      "z = np.load('big.npz')\n"
      "r = z['ramp']\n"
      "assert r.dtype == np.int32 and r.shape == (256, 256)\n"
      "assert (r.ravel() == np.arange(65536) % 300).all()\n"
      "assert z['noise'].dtype == np.int64 and z['noise'].shape == (65536,)\n"
      "import zipfile\n"
      "m = {i.filename: i.compress_type for i in zipfile.ZipFile('big.npz').infolist()}\n"
      "assert m == {'noise.npy': zipfile.ZIP_STORED, 'ramp.npy': zipfile.ZIP_DEFLATED}, m\n"))
      << read_file(dir_ / "python.err");
  const NpzReader back(dir_ / "big.npz");
  EXPECT_EQ(back.get("noise").to_int64("", ""), noise);
  EXPECT_EQ(back.get("ramp").bytes, NpyArray::from<std::int32_t>({1 << 8, 1 << 8}, ramp).bytes);
}

// Zip archives of stored members written here byte by byte (APPNOTE.TXT), to reach the zip64
// records: an end record whose count, directory size and offset are saturated, a zip64 locator and
// end record, and central entries whose sizes and offset live in a zip64 extra field (after
// another extra field), local headers with their own zip64 extra.
std::uint32_t crc32_here(const std::string& data) {
  std::uint32_t crc = 0xffffffffu;
  for (const unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

struct HandZip {
  bool zip64 = true;             // every zip64 record; false: a plain archive
  std::uint64_t locator_to = 0;  // zip64: where the locator points (0: the record)
  int zip64_extra_values = 3;    // zip64: 8-byte values in each central zip64 extra field
};

std::string hand_zip(const std::vector<std::pair<std::string, std::string>>& members,
                     const HandZip& o = {}) {
  std::string out;
  std::vector<std::uint64_t> offsets;
  for (const auto& [name, data] : members) {
    offsets.push_back(out.size());
    le(out, 0x04034b50, 4);
    le(out, o.zip64 ? 45 : 20, 2);
    le(out, 0, 2);  // flags
    le(out, 0, 2);  // stored
    le(out, 0, 4);  // time, date
    le(out, crc32_here(data), 4);
    le(out, o.zip64 ? 0xffffffff : data.size(), 4);
    le(out, o.zip64 ? 0xffffffff : data.size(), 4);
    le(out, name.size(), 2);
    le(out, o.zip64 ? 20 : 0, 2);
    out += name;
    if (o.zip64) {
      le(out, 1, 2);
      le(out, 16, 2);
      le(out, data.size(), 8);
      le(out, data.size(), 8);
    }
    out += data;
  }
  const std::uint64_t directory = out.size();
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto& [name, data] = members[i];
    std::string extra;
    if (o.zip64) {
      le(extra, 0x5455, 2);  // extended timestamp, to be skipped
      le(extra, 5, 2);
      le(extra, 1, 1);
      le(extra, 0, 4);
      le(extra, 1, 2);
      le(extra, 8 * o.zip64_extra_values, 2);
      const std::uint64_t values[] = {data.size(), data.size(), offsets[i]};
      for (int v = 0; v < o.zip64_extra_values; ++v) le(extra, values[v], 8);
    }
    le(out, 0x02014b50, 4);
    le(out, (3 << 8) | 45, 2);
    le(out, o.zip64 ? 45 : 20, 2);
    le(out, 0, 2);
    le(out, 0, 2);
    le(out, 0, 4);
    le(out, crc32_here(data), 4);
    le(out, o.zip64 ? 0xffffffff : data.size(), 4);
    le(out, o.zip64 ? 0xffffffff : data.size(), 4);
    le(out, name.size(), 2);
    le(out, extra.size(), 2);
    le(out, 0, 2);  // comment
    le(out, 0, 2);  // disk
    le(out, 0, 2);  // internal attributes
    le(out, 0, 4);  // external attributes
    le(out, o.zip64 ? 0xffffffff : offsets[i], 4);
    out += name;
    out += extra;
  }
  const std::uint64_t directory_size = out.size() - directory;
  if (o.zip64) {
    const std::uint64_t record = out.size();
    le(out, 0x06064b50, 4);
    le(out, 44, 8);
    le(out, 45, 2);
    le(out, 45, 2);
    le(out, 0, 4);
    le(out, 0, 4);
    le(out, members.size(), 8);
    le(out, members.size(), 8);
    le(out, directory_size, 8);
    le(out, directory, 8);
    le(out, 0x07064b50, 4);
    le(out, 0, 4);
    le(out, o.locator_to ? o.locator_to : record, 8);
    le(out, 1, 4);
  }
  le(out, 0x06054b50, 4);
  le(out, 0, 4);
  le(out, o.zip64 ? 0xffff : members.size(), 2);
  le(out, o.zip64 ? 0xffff : members.size(), 2);
  le(out, o.zip64 ? 0xffffffff : directory_size, 4);
  le(out, o.zip64 ? 0xffffffff : directory, 4);
  le(out, 0, 2);
  return out;
}

TEST_F(NpyTest, ReadsZip64Archives) {
  const NpyArray a = NpyArray::from<std::int32_t>({2, 3}, {1, -2, 3, 4, 5, 6});
  const NpyArray b = NpyArray::from<double>({2}, {0.5, -1e300});
  write_file_atomically(dir_ / "z64.npz",
                        hand_zip({{"a.npy", serialize_npy(a)}, {"b.npy", serialize_npy(b)}}));
  const NpzReader reader(dir_ / "z64.npz");
  EXPECT_EQ(reader.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reader.get("a").shape, a.shape);
  EXPECT_EQ(reader.get("a").bytes, a.bytes);
  EXPECT_EQ(reader.get("b").to_float64("", ""), (std::vector<double>{0.5, -1e300}));
}

TEST_F(NpyTest, ReadsWhatPythonWritesWithForceZip64) {
  if (!have_numpy()) GTEST_SKIP() << "Debian python3 with numpy not available";
  // force_zip64 puts a zip64 extra field in each local header (numpy.savez does the same).
  ASSERT_TRUE(
      python("import zipfile\n"
             "with zipfile.ZipFile('forced.npz', 'w', zipfile.ZIP_DEFLATED) as z:\n"
             "    for name, a in (('a', np.arange(300, dtype=np.int16)), ('b', np.eye(3))):\n"
             "        with z.open(name + '.npy', 'w', force_zip64=True) as f:\n"
             "            np.lib.format.write_array(f, a)\n"))
      << read_file(dir_ / "python.err");
  const NpzReader reader(dir_ / "forced.npz");
  const std::vector<std::int64_t> a = reader.get("a").to_int64("", "");
  ASSERT_EQ(a.size(), 300u);
  for (std::int64_t i = 0; i < 300; ++i) EXPECT_EQ(a[i], i);
  EXPECT_EQ(reader.get("b").to_float64("", ""), (std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
}

TEST_F(NpyTest, SixtyFiveThousandMembersWithAndWithoutZip64Records) {
  // 65535 members: our writer adds the zip64 records (count >= 0xffff); Python's zipfile does
  // not (only above 65535), leaving a count of 0xffff without a locator, which is still valid.
  NpzWriter writer(dir_ / "many.npz");
  std::vector<std::pair<std::string, std::string>> members;
  for (int i = 0; i < 0xffff; ++i) {
    const NpyArray one = NpyArray::from<std::int32_t>({1}, {i});
    writer.add("m" + std::to_string(i), one);
    members.emplace_back("m" + std::to_string(i) + ".npy", serialize_npy(one));
  }
  writer.commit();
  HandZip plain;
  plain.zip64 = false;
  write_file_atomically(dir_ / "plain.npz", hand_zip(members, plain));
  for (const char* file : {"many.npz", "plain.npz"}) {
    const NpzReader reader(dir_ / file);
    EXPECT_EQ(reader.names().size(), 0xffffu) << file;
    EXPECT_EQ(reader.get("m65534").to_int64("", ""), std::vector<std::int64_t>{65534}) << file;
  }
}

TEST_F(NpyTest, MalformedZip64RecordsAreInputErrorsNamingFileAndField) {
  const std::vector<std::pair<std::string, std::string>> members = {
      {"a.npy", serialize_npy(NpyArray::from<std::int32_t>({1}, {7}))}};
  const auto error = [&](const std::string& bytes) {
    const fs::path path = dir_ / "bad64.npz";
    write_file_atomically(path, bytes);
    return input_error_of([&] { NpzReader r(path); });
  };
  const std::string file = (dir_ / "bad64.npz").string();
  // The locator points past its own position, then at bytes that are no zip64 record.
  HandZip o;
  o.locator_to = 1u << 30;
  EXPECT_EQ(
      error(hand_zip(members, o)).rfind(file + ": zip64 end of central directory record: ", 0), 0u);
  o.locator_to = 4;
  EXPECT_EQ(
      error(hand_zip(members, o)).rfind(file + ": zip64 end of central directory record: ", 0), 0u);
  // A central entry with three saturated fields and a zip64 extra field of two values.
  o = {};
  o.zip64_extra_values = 2;
  EXPECT_EQ(error(hand_zip(members, o)).rfind(file + ": zip64 extra field of member 'a.npy': ", 0),
            0u);
  // ... and of none.
  o.zip64_extra_values = 0;
  EXPECT_EQ(error(hand_zip(members, o)).rfind(file + ": zip64 extra field of member 'a.npy': ", 0),
            0u);
  // An end record with a saturated directory offset and no locator before it.
  std::string bytes = hand_zip(members);
  const std::size_t locator = bytes.size() - 22 - 20;
  ASSERT_EQ(bytes.substr(locator, 4), std::string("PK\x06\x07", 4));
  bytes[locator] = 'X';
  EXPECT_EQ(error(bytes).rfind(file + ": zip64 end of central directory locator: ", 0), 0u);
  // The zip64 record sends the directory past the end of the file.
  bytes = hand_zip(members);
  const std::size_t record = locator - 56;
  ASSERT_EQ(bytes.substr(record, 4), std::string("PK\x06\x06", 4));
  for (int i = 0; i < 8; ++i) bytes[record + 48 + i] = static_cast<char>(0x7f);
  EXPECT_EQ(error(bytes).rfind(file + ": npz archive: ", 0), 0u);
  // Unmodified, the archive reads.
  EXPECT_TRUE(error(hand_zip(members)).empty());
}

}  // namespace
}  // namespace attnsim::common
