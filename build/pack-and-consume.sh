#!/usr/bin/env bash
# Packs every library, the demo model and the lumina tool to a local folder feed, then, outside the repository (so
# none of its build settings apply), with only those packages:
#   1. builds and runs README.md's "Generating" C# snippet as written (it writes lumina.png with the demo model),
#   2. checks that PNG (decodes, 32x32, generation metadata) with build/consumer-check/Check.cs,
#   3. installs the lumina .NET tool from the feed and runs it: `lumina --help`, `lumina info` and a generate.
# Usage: build/pack-and-consume.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d -t lumina-consumer-XXXXXX)
trap 'rm -rf "$work"' EXIT
# A unique prerelease version per run, so the global package cache never serves a stale copy.
suffix="local.$(date +%Y%m%d%H%M%S)"
version="0.1.0-$suffix"

dotnet pack "$repo/Lumina.sln" -c Release -o "$work/feed" -p:VersionSuffix="$suffix" --nologo -v quiet
ls "$work/feed"

mkdir -p "$work/app"
sed "s/@VERSION@/$version/g" "$repo/build/consumer-check/Consumer.csproj.template" > "$work/app/Consumer.csproj"
cp "$repo/build/consumer-check/Check.cs" "$work/app/"
# README.md's first csharp block after "## Generating", byte for byte.
awk '/^## Generating/ { section = 1 } section && /^```csharp/ { inside = 1; next } inside && /^```/ { exit } inside { print }' \
  "$repo/README.md" > "$work/app/Program.cs"
grep -q 'FromPretrained' "$work/app/Program.cs" || { echo "README.md has no C# snippet under '## Generating'" >&2; exit 1; }
cat > "$work/app/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="lumina-local" value="$work/feed" />
  </packageSources>
</configuration>
XML
# An empty Directory.Build.props stops MSBuild from walking up into any parent folder's settings.
echo '<Project />' > "$work/app/Directory.Build.props"
echo '<Project />' > "$work/app/Directory.Build.targets"
echo '<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>' > "$work/app/Directory.Packages.props"

echo "== README.md's snippet, as written:"
cat "$work/app/Program.cs"
(cd "$work/app" && rm -f lumina.png && dotnet run -c Release)
test -s "$work/app/lumina.png"
(cd "$work/app" && dotnet run -c Release -p:LuminaCheck=true -- lumina.png)

echo "== the lumina tool from the feed:"
dotnet tool install Lumina.Cli --version "$version" --tool-path "$work/tools" --configfile "$work/app/NuGet.config"
"$work/tools/lumina" --help > "$work/help.txt"
grep -q 'generate' "$work/help.txt"
"$work/tools/lumina" info "$repo/models/lumina-demo"
"$work/tools/lumina" generate "a red circle on the left on a white background" --seed 1 -o "$work/tool.png"
test -s "$work/tool.png"
echo "pack-and-consume ok"
