// .npy parsing/serialisation (NumPy format spec 1.0-3.0) and .npz archives through libzip.
#include "sim/common/npy.h"

#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "sim/common/atomic_file.h"
#include "sim/common/input_error.h"

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
  std::int64_t n = 1;
  for (std::int64_t dim : shape) n *= dim;
  return n;
}

std::vector<std::int64_t> NpyArray::to_int64(const std::string& source,
                                             const std::string& name) const {
  const std::size_t n = static_cast<std::size_t>(size());
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

NpyArray parse_npy(const std::string& data, const std::string& source) {
  if (data.size() < kMagicSize + 4 || data.compare(0, kMagicSize, kMagic, kMagicSize) != 0) {
    throw InputError(source, "npy magic", "a NumPy .npy file (\\x93NUMPY)",
                     data.size() < kMagicSize ? "a truncated file" : "other bytes");
  }
  const auto major = static_cast<std::uint8_t>(data[6]);
  std::size_t header_size = 0;
  std::size_t header_start = 0;
  if (major == 1) {
    header_size = load<std::uint16_t>(reinterpret_cast<const std::uint8_t*>(data.data() + 8));
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12) throw InputError(source, "npy header", "12 bytes", "a truncated file");
    header_size = load<std::uint32_t>(reinterpret_cast<const std::uint8_t*>(data.data() + 8));
    header_start = 12;
  } else {
    throw InputError(source, "npy version", "1, 2 or 3", std::to_string(major));
  }
  if (data.size() < header_start + header_size) {
    throw InputError(source, "npy header", std::to_string(header_size) + " header bytes",
                     "a truncated file");
  }
  const std::string header = data.substr(header_start, header_size);
  const std::string descr = header_value(header, "descr", source);
  const std::string fortran = header_value(header, "fortran_order", source);
  NpyArray array;
  bool known = false;
  // Strings: '<U12' / '|U12' (UTF-32LE), '|S12' / '<S12' / 'S12' (bytes); the size follows.
  const std::size_t kind = descr.find_first_of("US");
  if (kind != std::string::npos && kind <= 1 &&
      (kind == 0 || descr[0] == '<' || descr[0] == '|' || descr[0] == '=') &&
      descr.size() > kind + 1 &&
      descr.find_first_not_of("0123456789", kind + 1) == std::string::npos &&
      descr.size() - kind - 1 <= 9) {
    array.dtype = descr[kind] == 'U' ? DType::kUnicode : DType::kBytes;
    array.chars = std::stoll(descr.substr(kind + 1));
    known = true;
  }
  for (const DTypeInfo& entry : kDTypes) {
    if (is_text(entry.dtype)) continue;
    // '<' and '|' both mean "no swap needed" for one-byte types; NumPy writes either.
    const std::string alt = std::string(entry.descr).replace(0, 1, entry.size == 1 ? "<" : "|");
    if (descr == entry.descr || (entry.size == 1 && descr == alt)) {
      array.dtype = entry.dtype;
      known = true;
    }
  }
  if (!known) {
    throw InputError(source, "dtype",
                     "bool, (u)int8/16/32/64, float16/32/64 (little-endian), str or bytes",
                     "'" + descr + "'");
  }
  array.shape = parse_shape(header_value(header, "shape", source), source);
  const std::size_t item = array.item_size();
  const std::size_t expected_bytes = static_cast<std::size_t>(array.size()) * item;
  const std::size_t available = data.size() - header_start - header_size;
  if (available != expected_bytes) {
    throw InputError(
        source, "data", std::to_string(expected_bytes) + " bytes for shape and dtype",
        std::to_string(available) + " bytes" + (available < expected_bytes ? " (truncated)" : ""));
  }
  const auto* begin =
      reinterpret_cast<const std::uint8_t*>(data.data()) + header_start + header_size;
  array.bytes.assign(begin, begin + expected_bytes);
  if (fortran.rfind("True", 0) == 0 && array.shape.size() > 1) {
    array.bytes = fortran_to_c(array.bytes, array.shape, item);
  } else if (fortran.rfind("True", 0) != 0 && fortran.rfind("False", 0) != 0) {
    throw InputError(source, "npy header fortran_order", "True or False", "'" + fortran + "'");
  }
  return array;
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

NpyArray read_npy(const std::filesystem::path& path) {
  return parse_npy(read_file(path), path.string());
}

void write_npy(const std::filesystem::path& path, const NpyArray& array) {
  write_file_atomically(path, serialize_npy(array));
}

// ---- npz

namespace {

std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

}  // namespace

NpzReader::NpzReader(const std::filesystem::path& path) : path_(path.string()) {
  int code = 0;
  zip_t* archive = zip_open(path_.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!archive) {
    if (!std::filesystem::exists(path)) throw InputError(path_, "file not found");
    throw InputError(path_, "npz archive", "a valid .npz (zip) file",
                     "unreadable archive (" + zip_error_text(code) + ")");
  }
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  try {
    for (zip_int64_t i = 0; i < count; ++i) {
      zip_stat_t stat;
      if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &stat) != 0) {
        throw InputError(path_, std::string("cannot stat member: ") + zip_strerror(archive));
      }
      std::string member = stat.name;
      if (member.size() < 4 || member.compare(member.size() - 4, 4, ".npy") != 0) continue;
      zip_file_t* file = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0);
      if (!file) {
        throw InputError(path_, "member '" + member + "': cannot open: " + zip_strerror(archive));
      }
      std::string data(stat.size, '\0');
      const zip_int64_t got = zip_fread(file, data.data(), stat.size);
      const std::string read_error = got < 0 ? zip_file_strerror(file) : "";
      zip_fclose(file);
      if (got < 0 || static_cast<zip_uint64_t>(got) != stat.size) {
        throw InputError(path_, "member '" + member + "'", std::to_string(stat.size) + " bytes",
                         got < 0 ? "a read error (" + read_error + ")"
                                 : std::to_string(got) + " bytes (corrupt or truncated)");
      }
      const std::string name = member.substr(0, member.size() - 4);
      arrays_[name] = parse_npy(data, path_ + ": array '" + name + "'");
    }
  } catch (...) {
    zip_discard(archive);
    throw;
  }
  zip_discard(archive);
}

bool NpzReader::has(const std::string& name) const { return arrays_.count(name) != 0; }

std::vector<std::string> NpzReader::names() const {
  std::vector<std::string> out;
  for (const auto& entry : arrays_) out.push_back(entry.first);
  return out;
}

NpyArray NpzReader::get(const std::string& name) const {
  const auto it = arrays_.find(name);
  if (it == arrays_.end()) {
    std::string present;
    for (const auto& entry : arrays_) present += (present.empty() ? "" : ", ") + entry.first;
    throw InputError(path_, "array '" + name + "'", "a present array",
                     "missing (the file has: " + (present.empty() ? "nothing" : present) + ")");
  }
  return it->second;
}

NpzWriter::NpzWriter(std::filesystem::path path) : path_(std::move(path)) {}

void NpzWriter::add(const std::string& name, const NpyArray& array) {
  const std::string member = name + ".npy";
  for (auto& entry : members_) {
    if (entry.first == member) {
      entry.second = serialize_npy(array);
      return;
    }
  }
  members_.emplace_back(member, serialize_npy(array));
}

void NpzWriter::commit() {
  // The archive is built in a temporary file: beside a regular target so the rename stays on one
  // file system, in the temp folder for a symlink or device target (never next to /dev/stdout).
  const std::string tmp = replaces_by_rename(path_)
                              ? path_.string() + ".tmp-" + std::to_string(::getpid())
                              : (std::filesystem::temp_directory_path() /
                                 ("attnsim-npz-" + std::to_string(::getpid()) + ".tmp"))
                                    .string();
  int code = 0;
  zip_t* archive = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!archive) {
    throw InputError(path_.string(), "cannot create npz: " + zip_error_text(code));
  }
  auto fail = [&](const std::string& what) {
    const std::string message = what + ": " + zip_strerror(archive);
    zip_discard(archive);
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw InputError(path_.string(), message);
  };
  for (const auto& [member, data] : members_) {
    // The buffer stays alive in members_ until zip_close has written it.
    zip_source_t* source = zip_source_buffer(archive, data.data(), data.size(), 0);
    if (!source) fail("cannot buffer '" + member + "'");
    const zip_int64_t index = zip_file_add(archive, member.c_str(), source, ZIP_FL_OVERWRITE);
    if (index < 0) {
      zip_source_free(source);
      fail("cannot add '" + member + "'");
    }
    const auto at = static_cast<zip_uint64_t>(index);
    // A fixed timestamp (1980-01-01, the zip epoch) keeps identical arrays byte-identical.
    if (zip_set_file_compression(archive, at, ZIP_CM_DEFLATE, 6) != 0 ||
        zip_file_set_dostime(archive, at, 0, (0 << 9) | (1 << 5) | 1, 0) != 0) {
      fail("cannot set attributes of '" + member + "'");
    }
  }
  if (zip_close(archive) != 0) fail("cannot write npz");
  std::error_code ec;
  if (!replaces_by_rename(path_)) {
    // A symlink, device or pipe is written through, never replaced (see AtomicFile).
    const std::string bytes = read_file(tmp);
    std::filesystem::remove(tmp, ec);
    write_file_atomically(path_, bytes);
    return;
  }
  std::filesystem::rename(tmp, path_, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError(path_.string(), "cannot move npz into place: " + ec.message());
  }
}

}  // namespace attnsim::common
