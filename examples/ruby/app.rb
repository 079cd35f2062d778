# Groups a few words by length and prints them, with the Ruby that ran it.
words = %w[box wasm node browser edge ruby]
groups = words.group_by(&:length).sort.map { |len, ws| "#{len}: #{ws.join(', ')}" }
puts "ruby #{RUBY_VERSION}"
puts groups
File.write("groups.txt", groups.join("\n") + "\n")
puts "wrote #{File.size('groups.txt')} bytes to #{Dir.pwd}/groups.txt"
