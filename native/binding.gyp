{
  "targets": [
    {
      "target_name": "sdlock",
      "sources": [
        "src/addon.cc",
        "src/mmc_card.cc",
        "src/sysfs_rca.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra"
      ]
    }
  ]
}