// NumPy .npy and .npz files, read and written exactly as numpy.save / numpy.savez do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attnsim::common {

/// Element types of the arrays we exchange with NumPy (little-endian on disk).
enum class DType {
  kBool,
  kInt8,
  kUInt8,
  kInt16,
  kUInt16,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kFloat16,
  kFloat32,
  kFloat64,
  kBytes,   ///< NumPy 'S<n>': n bytes per element (NUL-padded)
  kUnicode  ///< NumPy 'U<n>': n UTF-32LE code points per element (NUL-padded)
};

/// NumPy's descr string ("<i4") and element size of a dtype (for kBytes / kUnicode: of one
/// character; NpyArray::item_size() has the element's).
const char* npy_descr(DType dtype);
std::size_t dtype_size(DType dtype);
/// Human-readable dtype name as NumPy prints it ("int32").
const char* dtype_name(DType dtype);

/// An n-d array in C order with little-endian elements, as stored in an .npy file.
struct NpyArray {
  DType dtype = DType::kFloat64;
  std::vector<std::int64_t> shape;  ///< empty for a 0-d (scalar) array
  std::vector<std::uint8_t> bytes;
  std::int64_t chars = 1;  ///< characters per element of kBytes / kUnicode arrays

  /// Number of elements (1 for a scalar).
  std::int64_t size() const;
  /// Bytes per element.
  std::size_t item_size() const;

  /// The text of a string array: one 'U' or 'S' element (trailing NULs dropped; 'U' as UTF-8),
  /// or a 1-d uint8/int8 array of bytes. Throws InputError naming `source` and array `name`
  /// for other dtypes or shapes.
  std::string to_text(const std::string& source, const std::string& name) const;
  /// A 0-d 'U' array of `utf8` (what numpy.savez writes for a Python str).
  static NpyArray from_text(const std::string& utf8);

  /// Elements as int64. Accepts bool and integer dtypes; throws InputError naming `source` and
  /// array `name` for floating dtypes or uint64 values beyond int64.
  std::vector<std::int64_t> to_int64(const std::string& source, const std::string& name) const;
  /// Elements as double. Accepts every dtype (NaN/Inf pass through: callers that need finite
  /// values check them, since only they know which arrays may hold them).
  std::vector<double> to_float64(const std::string& source, const std::string& name) const;

  /// An array of `values` with dtype deduced from T (bool, uint8, int8, int32, int64, float,
  /// double). Throws std::invalid_argument if the shape does not match the number of values.
  template <typename T>
  static NpyArray from(std::vector<std::int64_t> shape, const std::vector<T>& values);
};

/// An array read in place: its elements stay where they were read (the memory-mapped file for
/// .npy files and stored .npz members, the one decompressed buffer of a deflated member), so
/// large masks cost no copy and no zero-filled buffer. `owner` keeps those bytes alive; copies of
/// a view share them. Elements are little-endian and may be unaligned: read them with memcpy.
struct NpyView {
  DType dtype = DType::kFloat64;
  std::vector<std::int64_t> shape;  ///< empty for a 0-d (scalar) array
  std::int64_t chars = 1;           ///< characters per element of kBytes / kUnicode arrays
  const std::uint8_t* data = nullptr;
  std::size_t byte_size = 0;  ///< size() * item_size(), checked against the bytes present
  std::shared_ptr<const void> owner;

  std::int64_t size() const;
  std::size_t item_size() const;
  /// An owning copy (what NpzReader::get returns).
  NpyArray copy() const;
};

/// Parses .npy bytes; `source` names the file (and member) in errors.
NpyArray parse_npy(const std::string& data, const std::string& source);
/// Parses .npy bytes in place: the view points into `data` and holds `owner`. The header's shape
/// is checked against the bytes present before anything is allocated (an element count that
/// overflows 64 bits or exceeds `size` is an InputError naming `source` and the field).
/// Fortran-order arrays are converted into a buffer of their own.
NpyView parse_npy_view(const std::uint8_t* data, std::size_t size,
                       std::shared_ptr<const void> owner, const std::string& source);

/// The bytes of a file, memory-mapped read-only when it is a regular file (read into memory
/// otherwise: pipes, devices). The shared pointer keeps the mapping alive.
struct FileBytes {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::shared_ptr<const void> owner;
};
/// InputError "file not found" / "cannot read" naming `path`.
FileBytes map_file(const std::filesystem::path& path);
/// Serialises as .npy format version 1.0 (2.0 when the header needs it), as numpy.save writes.
std::string serialize_npy(const NpyArray& array);

/// Reads an .npy file; InputError on truncation, corruption or unsupported dtypes.
NpyArray read_npy(const std::filesystem::path& path);
/// Maps an .npy file and views its array in place (see NpyView); same checks as read_npy.
NpyView map_npy(const std::filesystem::path& path);
/// Writes an .npy file atomically.
void write_npy(const std::filesystem::path& path, const NpyArray& array);

/// Reads every member of an .npz archive (numpy.savez or savez_compressed) up front, so a corrupt
/// member is reported when the file is opened, not halfway through a simulation: every member's
/// CRC-32 is checked and its .npy header parsed against its size.
/// The archive is memory-mapped: stored members (numpy.savez) are viewed in place, deflated ones
/// (savez_compressed) are inflated once into a buffer of their exact size. The zip directory is
/// read here rather than through libzip because libzip does not expose where a member's data
/// starts, which mapping needs (APPNOTE 6.3: end of central directory, zip64 records, central
/// and local headers); libdeflate inflates members and computes CRCs (whole-buffer, several
/// times zlib's speed).
class NpzReader {
 public:
  explicit NpzReader(const std::filesystem::path& path);

  /// `name` is the array name without ".npy".
  bool has(const std::string& name) const;
  std::vector<std::string> names() const;
  /// Throws InputError "<file>: array '<name>': expected a present array, got missing" if absent.
  NpyArray get(const std::string& name) const;
  /// The array in place (no copy); same error as get() when absent.
  const NpyView& view(const std::string& name) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::map<std::string, NpyView> arrays_;
};

/// Builds an .npz archive (deflate-compressed members through libdeflate, fixed timestamps so the
/// same arrays give byte-identical files). Contract: nothing appears at `path` until commit()
/// succeeds.
class NpzWriter {
 public:
  explicit NpzWriter(std::filesystem::path path);
  /// Adds or replaces array `name` (without ".npy"); members are written in insertion order.
  void add(const std::string& name, const NpyArray& array);
  void commit();

 private:
  std::filesystem::path path_;
  std::vector<std::pair<std::string, std::string>> members_;  // name.npy -> .npy bytes
  std::map<std::string, std::size_t> index_;                  // name.npy -> its place
};

}  // namespace attnsim::common
