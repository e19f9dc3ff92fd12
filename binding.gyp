# The Node addon: node/src/*.c (N-API, C) compiled together with the whole C
# core, so the .node file needs no libvexil at run time. Source lists are
# globbed so new core files are picked up without editing this file.
{
  "targets": [
    {
      "target_name": "vexil",
      "sources": [
        "<!@(node node/scripts/sources.js)"
      ],
      "include_dirs": ["csrc/include", "csrc"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=c11", "-O2", "-falign-functions=64", "-fvisibility=hidden", "-Wno-unused-parameter"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["-lcjson", "-lyaml", "-lcurl", "-lcrypto", "-lsnappy", "-lz", "-lzstd", "-lrdkafka", "-lpthread", "-lm", "-ldl"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=c11", "-O2", "-falign-functions=64"]
      }
    }
  ]
}
