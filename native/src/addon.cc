// Node-API surface of the SD write-protect addon. Each call runs the card
// sequence on a libuv worker thread and settles a promise; nothing blocks the
// event loop. The TypeScript side (electron/core/sdlock/sdlock.io.ts) gives the
// results meaning.
//
//   readCsd(device: string, sysfsRoot: string): Promise<CsdRun>
//   programCsd(device, sysfsRoot, expected: Buffer(16), next: Buffer(16)): Promise<CsdRun>
//
//   CsdRun = { before: Buffer, after?: Buffer, rca, mmcDevice, sysfsPath,
//              cardType, statusAfterProgram?, trace }
//   rejections: Error with code, errno, step, cardStatus?, trace
#include <napi.h>

#include <cstring>

#include "mmc_card.h"

namespace {

Napi::Buffer<uint8_t> Copy(Napi::Env env, const uint8_t* bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes, sdlock::kCsdBytes);
}

class CsdWorker : public Napi::AsyncWorker {
 public:
  CsdWorker(Napi::Env env, std::string device, std::string sysfs_root, bool program, const uint8_t* expected,
            const uint8_t* next)
      : Napi::AsyncWorker(env, "bootcard:sdlock"),
        deferred_(Napi::Promise::Deferred::New(env)),
        device_(std::move(device)),
        sysfs_root_(std::move(sysfs_root)),
        program_(program) {
    if (program_) {
      memcpy(expected_, expected, sdlock::kCsdBytes);
      memcpy(next_, next, sdlock::kCsdBytes);
    }
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    ok_ = program_ ? sdlock::ProgramCsd(device_, sysfs_root_, expected_, next_, run_, error_)
                   : sdlock::ReadCsd(device_, sysfs_root_, run_, error_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!ok_) {
      Napi::Error error = Napi::Error::New(env, error_.step + ": " + error_.detail);
      Napi::Object value = error.Value();
      value.Set("code", error_.code);
      value.Set("errno", error_.errnum);
      value.Set("step", error_.step);
      value.Set("detail", error_.detail);
      value.Set("programmed", run_.programmed);
      if (error_.has_card_status) value.Set("cardStatus", Napi::Number::New(env, error_.card_status));
      value.Set("trace", run_.trace);
      deferred_.Reject(value);
      return;
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("before", Copy(env, run_.before));
    if (run_.programmed) result.Set("after", Copy(env, run_.after));
    if (run_.has_status_after_program) result.Set("statusAfterProgram", Napi::Number::New(env, run_.status_after_program));
    result.Set("rca", Napi::Number::New(env, run_.location.rca));
    result.Set("blockName", run_.location.block_name);
    result.Set("mmcDevice", run_.location.mmc_device);
    result.Set("sysfsPath", run_.location.sysfs_path);
    result.Set("cardType", run_.location.card_type);
    result.Set("trace", run_.trace);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string device_;
  std::string sysfs_root_;
  bool program_;
  uint8_t expected_[sdlock::kCsdBytes] = {};
  uint8_t next_[sdlock::kCsdBytes] = {};
  bool ok_ = false;
  sdlock::CsdRun run_;
  sdlock::CardError error_;
};

bool TakeStrings(const Napi::CallbackInfo& info, std::string& device, std::string& sysfs_root) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    Napi::TypeError::New(info.Env(), "expected (device: string, sysfsRoot: string, ...)").ThrowAsJavaScriptException();
    return false;
  }
  device = info[0].As<Napi::String>().Utf8Value();
  sysfs_root = info[1].As<Napi::String>().Utf8Value();
  return true;
}

const uint8_t* TakeCsd(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsBuffer() || info[index].As<Napi::Buffer<uint8_t>>().Length() != sdlock::kCsdBytes) {
    Napi::TypeError::New(info.Env(), "expected a 16-byte CSD buffer").ThrowAsJavaScriptException();
    return nullptr;
  }
  return info[index].As<Napi::Buffer<uint8_t>>().Data();
}

Napi::Value ReadCsd(const Napi::CallbackInfo& info) {
  std::string device, sysfs_root;
  if (!TakeStrings(info, device, sysfs_root)) return info.Env().Undefined();
  auto* worker = new CsdWorker(info.Env(), device, sysfs_root, false, nullptr, nullptr);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value ProgramCsd(const Napi::CallbackInfo& info) {
  std::string device, sysfs_root;
  if (!TakeStrings(info, device, sysfs_root)) return info.Env().Undefined();
  const uint8_t* expected = TakeCsd(info, 2);
  if (!expected) return info.Env().Undefined();
  const uint8_t* next = TakeCsd(info, 3);
  if (!next) return info.Env().Undefined();
  auto* worker = new CsdWorker(info.Env(), device, sysfs_root, true, expected, next);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("readCsd", Napi::Function::New(env, ReadCsd, "readCsd"));
  exports.Set("programCsd", Napi::Function::New(env, ProgramCsd, "programCsd"));
  exports.Set("abi", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(sdlock, Init)
