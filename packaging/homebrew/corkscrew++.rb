# Homebrew formula for corkscrew++. Homebrew spells the "+" of a formula's name as "x" in its
# class name. To use it, make the release tarball (cmake --build build --target package_source
# makes corkscrew++-VERSION.tar.gz), publish it, and set url and sha256 to its address and its
# SHA-256 (shasum -a 256); then `brew install --build-from-source ./corkscrew++.rb`. The project
# has no published home yet: homepage and url are placeholders.
class Corkscrewxx < Formula
  desc "Tunnel TCP through HTTP CONNECT proxies, for ssh's ProxyCommand"
  homepage "https://example.org/corkscrew++"
  url "https://example.org/corkscrew++/corkscrew++-0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "MIT"

  depends_on "boost" => :build
  depends_on "cmake" => :build
  depends_on "pkgconf" => :build
  depends_on "krb5"
  depends_on "openssl@3"
  depends_on "zstd"

  def install
    args = %w[
      -DCORKSCREW_TESTS=OFF
      -DCORKSCREW_BENCH=OFF
      -DCORKSCREW_STATIC_LIBSTDCXX=OFF
      -DCORKSCREW_ZSH_COMPLETION_DIR=share/zsh/site-functions
    ]
    system "cmake", "-S", ".", "-B", "build", *args, *std_cmake_args
    system "cmake", "--build", "build"
    system "cmake", "--install", "build"
  end

  test do
    assert_match "corkscrew++ #{version}", shell_output("#{bin}/corkscrew++ --version")
    # Nothing listens on the port: the proxy cannot be reached, exit status 3, one line naming it.
    port = free_port
    output = shell_output("#{bin}/corkscrew++ -x http://127.0.0.1:#{port} example.com 22 2>&1", 3)
    assert_match "127.0.0.1:#{port}", output
  end
end
