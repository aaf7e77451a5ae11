#!/usr/bin/env bash
# Packs every library to a local folder feed, then builds and runs a fresh console app (outside the repository,
# so none of the repository's build settings apply) that references only those packages.
# Usage: build/pack-and-consume.sh [model folder]   (default: models/lumina-demo; the app generates a PNG with it)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$repo/models/lumina-demo}
work=$(mktemp -d -t lumina-consumer-XXXXXX)
trap 'rm -rf "$work"' EXIT
# A unique prerelease version per run, so the global package cache never serves a stale copy.
suffix="local.$(date +%Y%m%d%H%M%S)"
version="0.1.0-$suffix"

dotnet pack "$repo/Lumina.sln" -c Release -o "$work/feed" -p:VersionSuffix="$suffix" --nologo -v quiet
ls "$work/feed"

mkdir -p "$work/app"
sed "s/@VERSION@/$version/g" "$repo/build/consumer-check/Consumer.csproj.template" > "$work/app/Consumer.csproj"
cp "$repo/build/consumer-check/Program.cs" "$work/app/"
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

(cd "$work/app" && dotnet run -c Release -- "$model" "$work/consumer.png")
test -s "$work/consumer.png"
