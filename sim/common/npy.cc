// .npy parsing/serialisation (NumPy format spec 1.0-3.0) and .npz archives (zip read and written
// here, members inflated and checksummed by libdeflate; see NpzReader in npy.h for why not libzip).
#include "sim/common/npy.h"

#include <fcntl.h>
#include <libdeflate.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "sim/common/atomic_file.h"
#include "sim/common/input_error.h"
#include "sim/common/memory_limit.h"

namespace attnsim::common {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;

struct DTypeInfo {
  DType dtype;
  const char* descr;  // little-endian (or byte-order-free) form
  const char* name;
  std::size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kBool, "|b1", "bool", 1},       {DType::kInt8, "|i1", "int8", 1},
    {DType::kUInt8, "|u1", "uint8", 1},     {DType::kInt16, "<i2", "int16", 2},
    {DType::kUInt16, "<u2", "uint16", 2},   {DType::kInt32, "<i4", "int32", 4},
    {DType::kUInt32, "<u4", "uint32", 4},   {DType::kInt64, "<i8", "int64", 8},
    {DType::kUInt64, "<u8", "uint64", 8},   {DType::kFloat16, "<f2", "float16", 2},
    {DType::kFloat32, "<f4", "float32", 4}, {DType::kFloat64, "<f8", "float64", 8},
    {DType::kBytes, "|S", "bytes", 1},      {DType::kUnicode, "<U", "str", 4},
};

bool is_text(DType dtype) { return dtype == DType::kBytes || dtype == DType::kUnicode; }

void append_utf8(std::string& out, std::uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

// UTF-8 to code points; a byte that starts no valid sequence stands for itself (Latin-1).
std::vector<std::uint32_t> code_points(const std::string& utf8) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    const int extra = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : 0;
    std::uint32_t c = extra == 3 ? b & 0x07 : extra == 2 ? b & 0x0f : extra == 1 ? b & 0x1f : b;
    bool valid = i + extra < utf8.size() || extra == 0;
    for (int k = 1; valid && k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(utf8[i + k]);
      valid = (next & 0xc0) == 0x80;
      c = (c << 6) | (next & 0x3f);
    }
    if (!valid) {
      out.push_back(b);
      ++i;
      continue;
    }
    out.push_back(c);
    i += 1 + extra;
  }
  return out;
}

const DTypeInfo& info(DType dtype) {
  for (const DTypeInfo& entry : kDTypes) {
    if (entry.dtype == dtype) return entry;
  }
  throw std::logic_error("unknown DType");
}

template <typename T>
T load(const std::uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);  // x86-64 and aarch64 are little-endian, like the files
  return value;
}

double half_to_double(std::uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) {
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  }
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

// The header is a Python dict literal; NumPy always writes the same three keys.
std::string header_value(const std::string& header, const std::string& key,
                         const std::string& source) {
  const std::string quoted_single = "'" + key + "'";
  const std::string quoted_double = "\"" + key + "\"";
  std::size_t at = header.find(quoted_single);
  std::size_t key_size = quoted_single.size();
  if (at == std::string::npos) {
    at = header.find(quoted_double);
    key_size = quoted_double.size();
  }
  if (at == std::string::npos) {
    throw InputError(source, "npy header", "a '" + key + "' entry", "'" + header + "'");
  }
  std::size_t start = header.find(':', at + key_size);
  if (start == std::string::npos) throw InputError(source, "npy header", "'key: value'", header);
  ++start;
  while (start < header.size() && header[start] == ' ') ++start;
  std::size_t end = start;
  if (start < header.size() && header[start] == '(') {
    end = header.find(')', start);
    if (end == std::string::npos) throw InputError(source, "npy header", "a shape tuple", header);
    return header.substr(start, end - start + 1);
  }
  if (start < header.size() && (header[start] == '\'' || header[start] == '"')) {
    end = header.find(header[start], start + 1);
    if (end == std::string::npos) throw InputError(source, "npy header", "a quoted string", header);
    return header.substr(start + 1, end - start - 1);
  }
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  return header.substr(start, end - start);
}

std::vector<std::int64_t> parse_shape(const std::string& tuple, const std::string& source) {
  std::vector<std::int64_t> shape;
  std::size_t i = 1;  // after '('
  while (i < tuple.size()) {
    while (i < tuple.size() && (tuple[i] == ' ' || tuple[i] == ',')) ++i;
    if (i >= tuple.size() || tuple[i] == ')') break;
    std::size_t used = 0;
    long long dim = -1;
    try {
      dim = std::stoll(tuple.substr(i), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || dim < 0) {
      throw InputError(source, "npy header shape", "non-negative integers", "'" + tuple + "'");
    }
    shape.push_back(dim);
    i += used;
    while (i < tuple.size() && tuple[i] == 'L') ++i;  // Python 2 longs
  }
  return shape;
}

// Fortran-order data to C order: element at multi-index idx moves from its column-major offset.
std::vector<std::uint8_t> fortran_to_c(const std::vector<std::uint8_t>& in,
                                       const std::vector<std::int64_t>& shape, std::size_t item) {
  std::vector<std::uint8_t> out(in.size());
  const std::size_t rank = shape.size();
  std::vector<std::int64_t> idx(rank, 0);
  const std::int64_t count = static_cast<std::int64_t>(in.size() / item);
  for (std::int64_t c_offset = 0; c_offset < count; ++c_offset) {
    std::int64_t f_offset = 0;
    std::int64_t stride = 1;
    for (std::size_t d = 0; d < rank; ++d) {
      f_offset += idx[d] * stride;
      stride *= shape[d];
    }
    std::memcpy(&out[c_offset * item], &in[f_offset * item], item);
    for (std::size_t d = rank; d-- > 0;) {  // advance the C-order multi-index
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace

const char* npy_descr(DType dtype) { return info(dtype).descr; }
std::size_t dtype_size(DType dtype) { return info(dtype).size; }
const char* dtype_name(DType dtype) { return info(dtype).name; }

std::size_t NpyArray::item_size() const {
  return dtype_size(dtype) * (is_text(dtype) ? static_cast<std::size_t>(chars) : 1);
}

std::string NpyArray::to_text(const std::string& source, const std::string& name) const {
  std::string out;
  if (is_text(dtype) && size() == 1) {
    for (std::int64_t i = 0; i < chars; ++i) {
      const std::uint32_t c =
          dtype == DType::kBytes
              ? bytes[i]
              : load<std::uint32_t>(bytes.data() + 4 * static_cast<std::size_t>(i));
      if (dtype == DType::kBytes) {
        out += static_cast<char>(c);
      } else {
        append_utf8(out, c);
      }
    }
    while (!out.empty() && out.back() == '\0') out.pop_back();
    return out;
  }
  if ((dtype == DType::kUInt8 || dtype == DType::kInt8) && shape.size() == 1) {
    out.assign(bytes.begin(), bytes.end());
    while (!out.empty() && out.back() == '\0') out.pop_back();
    return out;
  }
  std::string shape_text;
  for (const std::int64_t d : shape)
    shape_text += (shape_text.empty() ? "" : ", ") + std::to_string(d);
  throw InputError(source, "array '" + name + "'",
                   "one string (numpy str or bytes, 0-d) or a 1-d uint8 array of bytes",
                   std::string(dtype_name(dtype)) + " of shape [" + shape_text + "]");
}

NpyArray NpyArray::from_text(const std::string& utf8) {
  NpyArray array;
  array.dtype = DType::kUnicode;
  const std::vector<std::uint32_t> points = code_points(utf8);
  // NumPy gives the empty string one (NUL) character.
  array.chars = std::max<std::int64_t>(1, static_cast<std::int64_t>(points.size()));
  array.bytes.assign(static_cast<std::size_t>(array.chars) * 4, 0);
  for (std::size_t i = 0; i < points.size(); ++i) {
    std::memcpy(&array.bytes[4 * i], &points[i], 4);
  }
  return array;
}

std::int64_t NpyArray::size() const {
  // A zero extent empties the array whatever the others are: a header may declare huge extents
  // beside a 0 (the reader checks the product against the bytes present), and multiplying them
  // first overflowed (fuzz_npy, 2026-12-03). Without a zero the reader has bounded the product.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  std::int64_t n = 1;
  for (std::int64_t dim : shape) {
    if (__builtin_mul_overflow(n, dim, &n)) {
      throw std::logic_error("NpyArray::size: the element count overflows (unchecked shape)");
    }
  }
  return n;
}

std::vector<std::int64_t> NpyArray::to_int64(const std::string& source,
                                             const std::string& name) const {
  const std::size_t n = static_cast<std::size_t>(size());
  check_memory(std::uint64_t{n} * 8, source, "array '" + name + "' as 64-bit values");
  std::vector<std::int64_t> out(n);
  const std::uint8_t* p = bytes.data();
  const std::size_t item = dtype_size(dtype);
  for (std::size_t i = 0; i < n; ++i, p += item) {
    switch (dtype) {
      case DType::kBool:
        out[i] = *p != 0;
        break;
      case DType::kInt8:
        out[i] = load<std::int8_t>(p);
        break;
      case DType::kUInt8:
        out[i] = *p;
        break;
      case DType::kInt16:
        out[i] = load<std::int16_t>(p);
        break;
      case DType::kUInt16:
        out[i] = load<std::uint16_t>(p);
        break;
      case DType::kInt32:
        out[i] = load<std::int32_t>(p);
        break;
      case DType::kUInt32:
        out[i] = load<std::uint32_t>(p);
        break;
      case DType::kInt64:
        out[i] = load<std::int64_t>(p);
        break;
      case DType::kUInt64: {
        const auto value = load<std::uint64_t>(p);
        if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          throw InputError(source, "array '" + name + "'", "values that fit in int64",
                           std::to_string(value));
        }
        out[i] = static_cast<std::int64_t>(value);
        break;
      }
      default:
        throw InputError(source, "array '" + name + "'", "an integer or bool dtype",
                         dtype_name(dtype));
    }
  }
  return out;
}

std::vector<double> NpyArray::to_float64(const std::string& source, const std::string& name) const {
  switch (dtype) {
    case DType::kFloat16:
    case DType::kFloat32:
    case DType::kFloat64:
      break;
    default: {
      const std::vector<std::int64_t> ints = to_int64(source, name);
      return std::vector<double>(ints.begin(), ints.end());
    }
  }
  const std::size_t n = static_cast<std::size_t>(size());
  check_memory(std::uint64_t{n} * 8, source, "array '" + name + "' as 64-bit values");
  std::vector<double> out(n);
  const std::uint8_t* p = bytes.data();
  const std::size_t item = dtype_size(dtype);
  for (std::size_t i = 0; i < n; ++i, p += item) {
    if (dtype == DType::kFloat16) out[i] = half_to_double(load<std::uint16_t>(p));
    if (dtype == DType::kFloat32) out[i] = load<float>(p);
    if (dtype == DType::kFloat64) out[i] = load<double>(p);
  }
  return out;
}

template <typename T>
NpyArray NpyArray::from(std::vector<std::int64_t> shape, const std::vector<T>& values) {
  NpyArray array;
  if constexpr (std::is_same_v<T, bool>) {
    array.dtype = DType::kBool;
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    array.dtype = DType::kUInt8;
  } else if constexpr (std::is_same_v<T, std::int8_t>) {
    array.dtype = DType::kInt8;
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    array.dtype = DType::kInt32;
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    array.dtype = DType::kInt64;
  } else if constexpr (std::is_same_v<T, float>) {
    array.dtype = DType::kFloat32;
  } else {
    static_assert(std::is_same_v<T, double>, "unsupported NpyArray element type");
    array.dtype = DType::kFloat64;
  }
  array.shape = std::move(shape);
  if (array.size() != static_cast<std::int64_t>(values.size())) {
    throw std::invalid_argument("NpyArray::from: shape holds " + std::to_string(array.size()) +
                                " elements but " + std::to_string(values.size()) + " were given");
  }
  array.bytes.resize(values.size() * sizeof(T));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const T value = values[i];  // std::vector<bool> has no data()
    std::memcpy(&array.bytes[i * sizeof(T)], &value, sizeof(T));
  }
  return array;
}

template NpyArray NpyArray::from<bool>(std::vector<std::int64_t>, const std::vector<bool>&);
template NpyArray NpyArray::from<std::uint8_t>(std::vector<std::int64_t>,
                                               const std::vector<std::uint8_t>&);
template NpyArray NpyArray::from<std::int8_t>(std::vector<std::int64_t>,
                                              const std::vector<std::int8_t>&);
template NpyArray NpyArray::from<std::int32_t>(std::vector<std::int64_t>,
                                               const std::vector<std::int32_t>&);
template NpyArray NpyArray::from<std::int64_t>(std::vector<std::int64_t>,
                                               const std::vector<std::int64_t>&);
template NpyArray NpyArray::from<float>(std::vector<std::int64_t>, const std::vector<float>&);
template NpyArray NpyArray::from<double>(std::vector<std::int64_t>, const std::vector<double>&);

namespace {

std::string shape_tuple_text(const std::vector<std::int64_t>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return text + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

std::int64_t NpyView::size() const {
  std::int64_t n = 1;
  for (std::int64_t dim : shape) n *= dim;  // parse_npy_view checked the product fits
  return n;
}

std::size_t NpyView::item_size() const {
  return dtype_size(dtype) * (is_text(dtype) ? static_cast<std::size_t>(chars) : 1);
}

NpyArray NpyView::copy() const {
  NpyArray array;
  array.dtype = dtype;
  array.shape = shape;
  array.chars = chars;
  array.bytes.assign(data, data + byte_size);
  return array;
}

NpyView parse_npy_view(const std::uint8_t* data, std::size_t size,
                       std::shared_ptr<const void> owner, const std::string& source) {
  if (size < kMagicSize + 4 || std::memcmp(data, kMagic, kMagicSize) != 0) {
    throw InputError(source, "npy magic", "a NumPy .npy file (\\x93NUMPY)",
                     size < kMagicSize ? "a truncated file" : "other bytes");
  }
  const std::uint8_t major = data[6];
  std::size_t header_size = 0;
  std::size_t header_start = 0;
  if (major == 1) {
    header_size = load<std::uint16_t>(data + 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) throw InputError(source, "npy header", "12 bytes", "a truncated file");
    header_size = load<std::uint32_t>(data + 8);
    header_start = 12;
  } else {
    throw InputError(source, "npy version", "1, 2 or 3", std::to_string(major));
  }
  if (size - header_start < header_size) {
    throw InputError(source, "npy header", std::to_string(header_size) + " header bytes",
                     "a truncated file");
  }
  const std::string header(reinterpret_cast<const char*>(data) + header_start, header_size);
  const std::string descr = header_value(header, "descr", source);
  const std::string fortran = header_value(header, "fortran_order", source);
  NpyView view;
  bool known = false;
  // Strings: '<U12' / '|U12' (UTF-32LE), '|S12' / '<S12' / 'S12' (bytes); the size follows.
  const std::size_t kind = descr.find_first_of("US");
  if (kind != std::string::npos && kind <= 1 &&
      (kind == 0 || descr[0] == '<' || descr[0] == '|' || descr[0] == '=') &&
      descr.size() > kind + 1 &&
      descr.find_first_not_of("0123456789", kind + 1) == std::string::npos &&
      descr.size() - kind - 1 <= 9) {
    view.dtype = descr[kind] == 'U' ? DType::kUnicode : DType::kBytes;
    view.chars = std::stoll(descr.substr(kind + 1));
    // 'U0'/'S0' elements take no bytes, so no file size bounds their count (found by fuzz_npy:
    // a division by zero in the Fortran-order conversion).
    if (view.chars < 1) {
      throw InputError(source, "dtype", "strings of at least 1 character", "'" + descr + "'");
    }
    known = true;
  }
  for (const DTypeInfo& entry : kDTypes) {
    if (is_text(entry.dtype)) continue;
    // '<' and '|' both mean "no swap needed" for one-byte types; NumPy writes either.
    const std::string alt = std::string(entry.descr).replace(0, 1, entry.size == 1 ? "<" : "|");
    if (descr == entry.descr || (entry.size == 1 && descr == alt)) {
      view.dtype = entry.dtype;
      known = true;
    }
  }
  if (!known) {
    throw InputError(source, "dtype",
                     "bool, (u)int8/16/32/64, float16/32/64 (little-endian), str or bytes",
                     "'" + descr + "'");
  }
  view.shape = parse_shape(header_value(header, "shape", source), source);
  if (fortran.rfind("True", 0) != 0 && fortran.rfind("False", 0) != 0) {
    throw InputError(source, "npy header fortran_order", "True or False", "'" + fortran + "'");
  }
  // The element count and byte size in 64 bits with overflow checks, against the bytes that are
  // actually there, before anything is allocated or read: a header may claim any shape.
  const std::size_t available = size - header_start - header_size;
  std::uint64_t expected_bytes = view.item_size();
  bool overflow = false;
  for (const std::int64_t dim : view.shape) {
    overflow = overflow || __builtin_mul_overflow(expected_bytes, static_cast<std::uint64_t>(dim),
                                                  &expected_bytes);
  }
  if (overflow) {
    throw InputError(
        source, "npy header 'shape'",
        "a shape whose data fits the " + std::to_string(available) + " bytes present",
        shape_tuple_text(view.shape) + " (more than 2^64 bytes of " + dtype_name(view.dtype) + ")");
  }
  if (available != expected_bytes) {
    throw InputError(
        source, "data", std::to_string(expected_bytes) + " bytes for shape and dtype",
        std::to_string(available) + " bytes" + (available < expected_bytes ? " (truncated)" : ""));
  }
  view.data = data + header_start + header_size;
  view.byte_size = static_cast<std::size_t>(expected_bytes);
  view.owner = std::move(owner);
  if (fortran.rfind("True", 0) == 0 && view.shape.size() > 1) {
    auto converted = std::make_shared<std::vector<std::uint8_t>>(
        fortran_to_c(std::vector<std::uint8_t>(view.data, view.data + view.byte_size), view.shape,
                     view.item_size()));
    view.data = converted->data();
    view.owner = std::move(converted);
  }
  return view;
}

NpyArray parse_npy(const std::string& data, const std::string& source) {
  return parse_npy_view(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), nullptr,
                        source)
      .copy();
}

FileBytes map_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw InputError(name, "file not found");
    throw InputError(name, std::string("cannot open: ") + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    const auto size = static_cast<std::size_t>(st.st_size);
    // MAP_POPULATE maps the whole (page-cached) file in one call instead of one fault per page.
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    ::close(fd);
    if (map != MAP_FAILED) {
      FileBytes bytes;
      bytes.data = static_cast<const std::uint8_t*>(map);
      bytes.size = size;
      bytes.owner = std::shared_ptr<const void>(
          map, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
      return bytes;
    }
  } else {
    ::close(fd);
  }
  // Pipes, devices, empty files, or a mapping refused: read the bytes instead.
  auto text = std::make_shared<std::string>(read_file(path));
  FileBytes bytes;
  bytes.data = reinterpret_cast<const std::uint8_t*>(text->data());
  bytes.size = text->size();
  bytes.owner = std::move(text);
  return bytes;
}

std::string serialize_npy(const NpyArray& array) {
  std::string shape = "(";
  for (std::size_t i = 0; i < array.shape.size(); ++i) {
    shape += std::to_string(array.shape[i]) + (array.shape.size() == 1 ? "," : "");
    if (i + 1 < array.shape.size()) shape += ", ";
  }
  shape += ")";
  std::string descr = npy_descr(array.dtype);
  if (is_text(array.dtype)) descr += std::to_string(array.chars);
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so the data starts on a 64-byte boundary, newline-terminated, as NumPy does.
  const bool v2 = header.size() + 11 > 65535;
  const std::size_t prefix = v2 ? 12 : 10;
  const std::size_t total = ((prefix + header.size() + 1 + 63) / 64) * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';
  std::string out(kMagic, kMagicSize);
  out += static_cast<char>(v2 ? 2 : 1);
  out += '\0';
  const std::size_t n = header.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (v2) {
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 24) & 0xff);
  }
  out += header;
  out.append(reinterpret_cast<const char*>(array.bytes.data()), array.bytes.size());
  return out;
}

NpyArray read_npy(const std::filesystem::path& path) { return map_npy(path).copy(); }

NpyView map_npy(const std::filesystem::path& path) {
  const FileBytes file = map_file(path);
  return parse_npy_view(file.data, file.size, file.owner, path.string());
}

void write_npy(const std::filesystem::path& path, const NpyArray& array) {
  write_file_atomically(path, serialize_npy(array));
}

// ---- npz

namespace {

// One member of a zip archive, from its central directory entry (APPNOTE.TXT 4.3.12).
struct ZipMember {
  std::string name;
  std::uint16_t flags = 0;
  std::uint16_t method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;
  std::uint64_t local_offset = 0;
};

constexpr std::uint32_t kEndOfDirectory = 0x06054b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr std::uint32_t kDirectoryEntry = 0x02014b50;
constexpr std::uint32_t kLocalHeader = 0x04034b50;

[[noreturn]] void bad_archive(const std::string& path, const std::string& got) {
  throw InputError(path, "npz archive", "a valid .npz (zip) file",
                   "unreadable archive (" + got + ")");
}

std::vector<ZipMember> zip_directory(const FileBytes& file, const std::string& path) {
  const std::uint8_t* d = file.data;
  const std::size_t n = file.size;
  if (n < 22) bad_archive(path, "no end of central directory: " + std::to_string(n) + " bytes");
  // The end record is the last one whose comment reaches at most to the end of the file.
  std::size_t eocd = std::string::npos;
  for (std::size_t i = n - 22;; --i) {
    if (load<std::uint32_t>(d + i) == kEndOfDirectory &&
        i + 22 + load<std::uint16_t>(d + i + 20) <= n) {
      eocd = i;
      break;
    }
    if (i == 0 || n - i >= 22 + 65535) break;
  }
  if (eocd == std::string::npos) {
    bad_archive(path, "no end of central directory record (truncated?)");
  }
  std::uint64_t entries = load<std::uint16_t>(d + eocd + 10);
  std::uint64_t directory_size = load<std::uint32_t>(d + eocd + 12);
  std::uint64_t directory_offset = load<std::uint32_t>(d + eocd + 16);
  // Zip64 (APPNOTE 4.3.14, 4.3.15): a locator just before the end record points to a record with
  // the 8-byte values of the end record's saturated fields. Without a locator, a count of 0xffff
  // is just 65535 members (Python's zipfile writes the zip64 records only for more).
  const bool saturated =
      entries == 0xffff || directory_size == 0xffffffff || directory_offset == 0xffffffff;
  const bool located =
      saturated && eocd >= 20 && load<std::uint32_t>(d + eocd - 20) == kZip64Locator;
  if (located) {
    const std::uint64_t at = load<std::uint64_t>(d + eocd - 20 + 8);
    if (at > eocd - 20 || eocd - 20 - at < 56) {
      throw InputError(
          path, "zip64 end of central directory record",
          "56 bytes before the zip64 locator (at offset " + std::to_string(eocd - 20) + ")",
          "offset " + std::to_string(at));
    }
    if (load<std::uint32_t>(d + at) != kZip64EndOfDirectory) {
      throw InputError(path, "zip64 end of central directory record",
                       "its signature at offset " + std::to_string(at),
                       "other bytes (corrupt zip64 locator or record)");
    }
    if (entries == 0xffff) entries = load<std::uint64_t>(d + at + 32);
    if (directory_size == 0xffffffff) directory_size = load<std::uint64_t>(d + at + 40);
    if (directory_offset == 0xffffffff) directory_offset = load<std::uint64_t>(d + at + 48);
  } else if (directory_size == 0xffffffff || directory_offset == 0xffffffff) {
    throw InputError(path, "zip64 end of central directory locator",
                     "a locator (the end record's directory size or offset is 0xffffffff)", "none");
  }
  if (directory_offset > n || directory_size > n - directory_offset) {
    bad_archive(path, "central directory beyond the end of the file (truncated)");
  }
  std::vector<ZipMember> members;
  std::size_t p = directory_offset;
  const std::size_t end = directory_offset + directory_size;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (end - p < 46 || load<std::uint32_t>(d + p) != kDirectoryEntry) {
      bad_archive(path, "corrupt central directory entry " + std::to_string(e));
    }
    ZipMember m;
    m.flags = load<std::uint16_t>(d + p + 8);
    m.method = load<std::uint16_t>(d + p + 10);
    m.crc = load<std::uint32_t>(d + p + 16);
    m.compressed_size = load<std::uint32_t>(d + p + 20);
    m.size = load<std::uint32_t>(d + p + 24);
    const std::size_t name_size = load<std::uint16_t>(d + p + 28);
    const std::size_t extra_size = load<std::uint16_t>(d + p + 30);
    const std::size_t comment_size = load<std::uint16_t>(d + p + 32);
    m.local_offset = load<std::uint32_t>(d + p + 42);
    if (end - p - 46 < name_size + extra_size + comment_size) {
      bad_archive(path, "corrupt central directory entry " + std::to_string(e));
    }
    m.name.assign(reinterpret_cast<const char*>(d + p + 46), name_size);
    // Zip64 extra field: the 8-byte values of the fields saturated above, in this order.
    const std::uint8_t* x = d + p + 46 + name_size;
    const std::uint8_t* x_end = x + extra_size;
    bool zip64_extra = false;
    while (x_end - x >= 4) {
      const std::uint16_t id = load<std::uint16_t>(x);
      const std::size_t field_size = load<std::uint16_t>(x + 2);
      if (static_cast<std::size_t>(x_end - x - 4) < field_size) {
        throw InputError(path, "extra field of member '" + m.name + "'",
                         std::to_string(field_size) + " bytes",
                         std::to_string(x_end - x - 4) + " (corrupt central directory)");
      }
      if (id == 0x0001 && !zip64_extra) {
        zip64_extra = true;
        const std::uint8_t* v = x + 4;
        std::size_t needed = 0;
        for (const std::uint64_t* field : {&m.size, &m.compressed_size, &m.local_offset}) {
          needed += *field == 0xffffffff ? 8 : 0;
        }
        if (field_size < needed) {
          throw InputError(path, "zip64 extra field of member '" + m.name + "'",
                           std::to_string(needed) + " bytes (8 for each 0xffffffff size or offset)",
                           std::to_string(field_size));
        }
        for (std::uint64_t* field : {&m.size, &m.compressed_size, &m.local_offset}) {
          if (*field != 0xffffffff) continue;
          *field = load<std::uint64_t>(v);
          v += 8;
        }
      }
      x += 4 + field_size;
    }
    if (!zip64_extra &&
        (m.size == 0xffffffff || m.compressed_size == 0xffffffff || m.local_offset == 0xffffffff)) {
      throw InputError(path, "zip64 extra field of member '" + m.name + "'",
                       "present (a size or offset is 0xffffffff)", "none");
    }
    members.push_back(std::move(m));
    p += 46 + name_size + extra_size + comment_size;
  }
  return members;
}

// Inflates a raw deflate stream of exactly `size` bytes into a buffer of its own (not zeroed
// first: the decompressor writes every byte).
std::shared_ptr<std::uint8_t[]> inflate_member(const std::uint8_t* in, std::uint64_t in_size,
                                               std::uint64_t size, const std::string& path,
                                               const std::string& member) {
  // Deflate expands at most about 1032:1; a larger claim is a corrupt directory, not a reason
  // to allocate.
  if (size / 1032 > in_size + 1) {
    throw InputError(path, "member '" + member + "'",
                     "a size deflate can produce from " + std::to_string(in_size) + " bytes",
                     std::to_string(size) + " bytes");
  }
  check_memory(size, path, "member '" + member + "' inflated");
  std::shared_ptr<std::uint8_t[]> out(new std::uint8_t[std::max<std::uint64_t>(size, 1)]);
  libdeflate_decompressor* decompressor = libdeflate_alloc_decompressor();
  if (!decompressor) throw std::bad_alloc();
  // A null actual size asks for exactly `size` bytes: fewer or more is an error.
  const libdeflate_result result =
      libdeflate_deflate_decompress(decompressor, in, static_cast<std::size_t>(in_size), out.get(),
                                    static_cast<std::size_t>(size), nullptr);
  libdeflate_free_decompressor(decompressor);
  if (result != LIBDEFLATE_SUCCESS) {
    throw InputError(path, "member '" + member + "'",
                     std::to_string(size) + " bytes of deflate data",
                     result == LIBDEFLATE_BAD_DATA ? "corrupt compressed data"
                                                   : "another size (corrupt or truncated)");
  }
  return out;
}

std::uint32_t crc32_of(const std::uint8_t* data, std::uint64_t size) {
  return libdeflate_crc32(0, data, static_cast<std::size_t>(size));
}

std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

}  // namespace

NpzReader::NpzReader(const std::filesystem::path& path) : path_(path.string()) {
  const FileBytes file = map_file(path);
  for (const ZipMember& m : zip_directory(file, path_)) {
    const std::string& member = m.name;
    if (member.size() < 4 || member.compare(member.size() - 4, 4, ".npy") != 0) continue;
    if (m.flags & 1) {
      throw InputError(path_, "member '" + member + "'", "an unencrypted member", "encrypted");
    }
    const std::uint64_t at = m.local_offset;
    if (file.size < 30 || at > file.size - 30 ||
        load<std::uint32_t>(file.data + at) != kLocalHeader) {
      bad_archive(path_, "no local header for '" + member + "' (corrupt or truncated)");
    }
    const std::uint64_t data_at = at + 30 + load<std::uint16_t>(file.data + at + 26) +
                                  load<std::uint16_t>(file.data + at + 28);
    if (data_at > file.size || m.compressed_size > file.size - data_at) {
      throw InputError(path_, "member '" + member + "'",
                       std::to_string(m.compressed_size) + " bytes", "fewer (truncated)");
    }
    const std::uint8_t* data = file.data + data_at;
    std::shared_ptr<const void> owner = file.owner;
    if (m.method == 8) {
      std::shared_ptr<std::uint8_t[]> inflated =
          inflate_member(data, m.compressed_size, m.size, path_, member);
      data = inflated.get();
      owner = std::move(inflated);
    } else if (m.method != 0 || m.compressed_size != m.size) {
      throw InputError(path_, "member '" + member + "'", "stored or deflate compression",
                       "zip method " + std::to_string(m.method));
    }
    const std::uint32_t crc = crc32_of(data, m.size);
    if (crc != m.crc) {
      throw InputError(path_, "member '" + member + "'", "CRC-32 " + hex32(m.crc),
                       hex32(crc) + " (corrupt)");
    }
    const std::string name = member.substr(0, member.size() - 4);
    arrays_[name] = parse_npy_view(data, static_cast<std::size_t>(m.size), std::move(owner),
                                   path_ + ": array '" + name + "'");
  }
}

bool NpzReader::has(const std::string& name) const { return arrays_.count(name) != 0; }

std::vector<std::string> NpzReader::names() const {
  std::vector<std::string> out;
  for (const auto& entry : arrays_) out.push_back(entry.first);
  return out;
}

const NpyView& NpzReader::view(const std::string& name) const {
  const auto it = arrays_.find(name);
  if (it == arrays_.end()) {
    std::string present;
    for (const auto& entry : arrays_) present += (present.empty() ? "" : ", ") + entry.first;
    throw InputError(path_, "array '" + name + "'", "a present array",
                     "missing (the file has: " + (present.empty() ? "nothing" : present) + ")");
  }
  return it->second;
}

NpyArray NpzReader::get(const std::string& name) const { return view(name).copy(); }

NpzWriter::NpzWriter(std::filesystem::path path) : path_(std::move(path)) {}

void NpzWriter::add(const std::string& name, const NpyArray& array) {
  const std::string member = name + ".npy";
  const auto [it, added] = index_.emplace(member, members_.size());
  if (!added) {
    members_[it->second].second = serialize_npy(array);
    return;
  }
  members_.emplace_back(member, serialize_npy(array));
}

namespace {

void put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}
void put64(std::string& out, std::uint64_t v) {
  put32(out, static_cast<std::uint32_t>(v));
  put32(out, static_cast<std::uint32_t>(v >> 32));
}

// Values from 0xffffffff on go to the zip64 extra field (APPNOTE 4.5.3).
std::uint32_t field32(std::uint64_t v) {
  return v >= 0xffffffff ? 0xffffffffu : static_cast<std::uint32_t>(v);
}

}  // namespace

void NpzWriter::commit() {
  // The archive is assembled in memory and published with write_file_atomically (a temporary
  // sibling renamed into place; a symlink, device or pipe written through). Members are
  // deflated at libdeflate's level 6 (stored when that does not make them smaller), with the zip
  // epoch as timestamp, so the same arrays give byte-identical files.
  constexpr std::uint32_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
  struct Entry {
    std::uint64_t offset, compressed, size;
    std::uint32_t crc;
    std::uint16_t method;
  };
  std::string out;
  std::vector<Entry> entries;
  libdeflate_compressor* compressor = libdeflate_alloc_compressor(6);
  if (!compressor) throw std::bad_alloc();
  std::string packed;
  for (const auto& [member, data] : members_) {
    Entry e{out.size(), 0, data.size(), libdeflate_crc32(0, data.data(), data.size()), 8};
    packed.resize(libdeflate_deflate_compress_bound(compressor, data.size()));
    std::size_t packed_size = libdeflate_deflate_compress(compressor, data.data(), data.size(),
                                                          packed.data(), packed.size());
    if (packed_size == 0 || packed_size >= data.size()) {
      e.method = 0;
      packed_size = data.size();
    }
    e.compressed = packed_size;
    const bool zip64 = e.size >= 0xffffffff || e.compressed >= 0xffffffff;
    put32(out, 0x04034b50);
    put16(out, zip64 ? 45 : 20);  // version needed
    put16(out, 0);                // flags
    put16(out, e.method);
    put16(out, 0);  // time
    put16(out, kDosDate);
    put32(out, e.crc);
    put32(out, field32(e.compressed));
    put32(out, field32(e.size));
    put16(out, static_cast<std::uint32_t>(member.size()));
    put16(out, zip64 ? 20 : 0);
    out += member;
    if (zip64) {
      put16(out, 0x0001);
      put16(out, 16);
      put64(out, e.size);
      put64(out, e.compressed);
    }
    if (e.method == 0) {
      out += data;
    } else {
      out.append(packed.data(), packed_size);
    }
    entries.push_back(e);
  }
  libdeflate_free_compressor(compressor);
  const std::uint64_t directory_offset = out.size();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const std::string& member = members_[i].first;
    std::string extra;
    if (e.size >= 0xffffffff) put64(extra, e.size);
    if (e.compressed >= 0xffffffff) put64(extra, e.compressed);
    if (e.offset >= 0xffffffff) put64(extra, e.offset);
    put32(out, 0x02014b50);
    put16(out, (3 << 8) | 45);  // made by: Unix, spec 4.5
    put16(out, extra.empty() ? 20 : 45);
    put16(out, 0);
    put16(out, e.method);
    put16(out, 0);
    put16(out, kDosDate);
    put32(out, e.crc);
    put32(out, field32(e.compressed));
    put32(out, field32(e.size));
    put16(out, static_cast<std::uint32_t>(member.size()));
    put16(out, extra.empty() ? 0 : static_cast<std::uint32_t>(4 + extra.size()));
    put16(out, 0);               // comment
    put16(out, 0);               // disk
    put16(out, 0);               // internal attributes
    put32(out, 0100644u << 16);  // external: a regular file, rw-r--r--
    put32(out, field32(e.offset));
    out += member;
    if (!extra.empty()) {
      put16(out, 0x0001);
      put16(out, static_cast<std::uint32_t>(extra.size()));
      out += extra;
    }
  }
  const std::uint64_t directory_size = out.size() - directory_offset;
  const std::uint64_t count = entries.size();
  if (count >= 0xffff || directory_offset >= 0xffffffff || directory_size >= 0xffffffff) {
    const std::uint64_t zip64_end = out.size();
    put32(out, 0x06064b50);
    put64(out, 44);  // size of the rest of this record
    put16(out, (3 << 8) | 45);
    put16(out, 45);
    put32(out, 0);
    put32(out, 0);
    put64(out, count);
    put64(out, count);
    put64(out, directory_size);
    put64(out, directory_offset);
    put32(out, 0x07064b50);
    put32(out, 0);
    put64(out, zip64_end);
    put32(out, 1);
  }
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, count >= 0xffff ? 0xffff : static_cast<std::uint32_t>(count));
  put16(out, count >= 0xffff ? 0xffff : static_cast<std::uint32_t>(count));
  put32(out, field32(directory_size));
  put32(out, field32(directory_offset));
  put16(out, 0);
  write_file_atomically(path_, out);
}

}  // namespace attnsim::common
