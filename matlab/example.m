% EXAMPLE  Combine the report's losses into its total loss on small example
%   arrays and print each term: total = alpha*content + beta*style + gamma*tv.
%   Run from this folder: octave-cli --no-gui example.m
%   The arrays are fixed integer patterns (no rand), so the output is reproducible.

% Generated image (3 x H x W) and its features at two layers (C x H x W each).
img = reshape(mod(37 * (1:3*8*6), 256), [3, 8, 6]);
feats = {reshape(mod(7 * (1:4*8*6), 11), [4, 8, 6]) / 10, ...
         reshape(mod(5 * (1:6*4*3), 13), [6, 4, 3]) / 10};

% Content target: features of the content image at layer 2.
content_layer = 2;
content_target = reshape(mod(3 * (1:6*4*3), 7), [6, 4, 3]) / 10;

% Style targets: Gram matrices of the style image's features at layers 1 and 2.
style_layers = [1, 2];
style_targets = {gram_matrix(reshape(mod(11 * (1:4*8*6), 17), [4, 8, 6]) / 10), ...
                 gram_matrix(reshape(mod(13 * (1:6*4*3), 19), [6, 4, 3]) / 10)};

content_weight = 5e-2;
style_weights = [2e2, 5e1];
tv_weight = 1e-4;
alpha = 1; beta = 1; gamma = 1;

c_loss = content_loss(content_weight, feats{content_layer}, content_target);
s_loss = style_loss(feats, style_layers, style_targets, style_weights);
t_loss = tv_loss(img, tv_weight);
loss = alpha * c_loss + beta * s_loss + gamma * t_loss;

fprintf('content %.17g\n', c_loss);
fprintf('style %.17g\n', s_loss);
fprintf('tv %.17g\n', t_loss);
fprintf('total %.17g\n', loss);
